// LinearHead as a JS class (binding.d.ts RawLinearHead): a fitted detector's linear head in native memory, prepared
// once per backend (core/detectors/fitted_head.h).
//   new LinearHead({ weights, bias?, classes, clip? })     weights classes×dim float32; clip: ReAct's (default none)
//   score({ features, rows, kind: 'msp' | 'maxlogit' | 'energy' | 'gen' | 'entropy', temperature?, gamma?, topM?,
//           backend?, cancelFlag?, onProgress? }) -> Promise<Float64Array>
//   dim(), classes(), dispose()
#include <limits>
#include <memory>

#include "../core/checks.h"
#include "../core/detectors.h"
#include "../core/detectors/fitted_head.h"
#include "bindings.h"
#include "handles.h"
#include "native_handle.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

class LinearHeadWrap : public NativeHandle<LinearHeadWrap, FittedHead> {
 public:
  static constexpr const char* kClassName = "LinearHead";
  static constexpr napi_type_tag kTypeTag = {0x6e636f64'6c696e65ULL, 0x61726865'61643031ULL};

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {InstanceMethod<&LinearHeadWrap::Score>("score"), InstanceMethod<&LinearHeadWrap::Dim>("dim"),
                        InstanceMethod<&LinearHeadWrap::Classes>("classes"),
                        InstanceMethod<&LinearHeadWrap::Dispose>("dispose")});
  }

  explicit LinearHeadWrap(const Napi::CallbackInfo& info) : NativeHandle(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      OptionsReader o = OptionsReader::only_argument(info, "LinearHead");
      auto weights = o.float32_array("weights");
      auto bias = o.optional_float32_array("bias");
      const size_t classes = o.positive_size("classes", size_t(1) << 24);
      const Napi::Value clip_value = o.value("clip");
      if (!clip_value.IsUndefined() && !clip_value.IsNumber()) fail(ErrorCode::InvalidArgument, o.field("clip"), "a number or undefined", describe_js(clip_value));
      const double clip = clip_value.IsUndefined() ? std::numeric_limits<double>::infinity() : clip_value.As<Napi::Number>().DoubleValue();
      if (weights.length == 0 || weights.length % classes != 0) {
        fail(ErrorCode::Shape, o.field("weights"), "classes (" + std::to_string(classes) + ") × dim elements", std::to_string(weights.length) + " elements");
      }
      const size_t dim = weights.length / classes;
      check_optional_length(o.field("bias"), bias, classes, std::to_string(classes) + " elements (classes)");
      hold(env, info.This().As<Napi::Object>(),
           std::make_shared<FittedHead>(weights.data, bias.data, classes, dim, static_cast<float>(clip)));
      return 0;
    });
  }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info) { return dispose_state(info); }
  Napi::Value Score(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto head = live(env);
      OptionsReader o = OptionsReader::only_argument(info, "score");
      auto features = o.float32_array("features");
      const size_t rows = o.size("rows");
      const LogitScoreSpec spec = logit_spec_option(o, head->classes());
      const ScoreRun run = score_run_options(o);
      check_matrix_length("features", features.length, rows, head->dim());
      const float* x = features.data;
      return scores_promise(env, "ncod.LinearHead.score", o.read_inputs_and_this(info), run.cancel, run.progress,
                            [=, backend = run.backend](const RunContext& context) {
                              return head_scores(backend, x, rows, *head, spec, context);
                            });
    });
  }

  Napi::Value Dim(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(live(info.Env())->dim())); });
  }
  Napi::Value Classes(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(live(info.Env())->classes())); });
  }
};

}  // namespace

LogitScoreSpec logit_spec_option(OptionsReader& o, size_t classes) {
  LogitScoreSpec s;
  s.kind = o.enum_of("kind", kLogitScoreNames);
  s.temperature = o.optional_number("temperature", 1.0);
  s.gamma = o.optional_number("gamma", 0.1);
  const Napi::Value top = o.value("topM");
  s.top = top.IsUndefined() ? 0 : count(o.env(), top, o.field("topM").c_str(), size_t(1) << 31);
  return checked_logit_spec(s, classes);
}

std::shared_ptr<FittedHead> head_option(OptionsReader& o, const char* key) {
  return LinearHeadWrap::state_of(o.env(), o.value(key), o.field(key));
}

Napi::Function DefineLinearHead(Napi::Env env) { return LinearHeadWrap::Define(env); }
NCOD_EXPORT("LinearHead", DefineLinearHead);

}  // namespace ncod::binding
