// The method's loss and projector kernels, for the trainer and for tests:
//   crossEntropyLs({logits, labels, rows, classes, smoothing, cancelFlag?}) -> Promise<{loss, grad}>
//   nnEntropy({features, rows, dim, scale, cancelFlag?}) -> Promise<{loss, grad}>
//   etfProjector({features, rows, dim, hiddenWidth, dz?, cancelFlag?}) -> Promise<{hidden, z, de | null}>
// CPU implementations (native/cpu/training.cpp); the CUDA versions come with the trainer.
#include <memory>
#include <vector>

#include "../core/checks.h"
#include "../core/training.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

struct LossResult {
  double loss = 0;
  std::vector<float> grad;
};

Napi::Value loss_to_js(Napi::Env env, const LossResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", r.loss);
  out.Set("grad", to_float32_array(env, r.grad));
  return out;
}

}  // namespace

Napi::Value CrossEntropyLs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "crossEntropyLs");
    auto logits = o.float32_array("logits");
    auto labels = o.int32_array("labels");
    const size_t rows = o.size("rows");
    const size_t classes = o.size("classes", size_t(1) << 24);
    const double eps = o.number("smoothing");
    const int32_t* cancel = o.cancel_flag();

    check_matrix_length("logits", logits.length, rows, classes);
    check_label_count(labels.length, rows);
    check_labels(labels.data, rows, classes);
    check_finite("logits", logits.data, rows, classes);
    if (!(eps >= 0 && eps < 1)) fail(ErrorCode::InvalidArgument, o.field("smoothing"), "a number in [0, 1)", std::to_string(eps));
    auto result = std::make_shared<LossResult>();
    const float* z = logits.data;
    const int32_t* y = labels.data;
    // The kernel is one step without a cancel point: an abort during it rejects once it returns.
    return PromiseWorker::Start(
        env, "ncod.crossEntropyLs", o.read_inputs(), cancel, Napi::Function(),
        [=](const RunContext& context) {
          context.throw_if_cancelled();
          result->grad.resize(rows * classes);
          result->loss = cross_entropy_ls(z, y, rows, classes, eps, result->grad.data());
          context.throw_if_cancelled();
        },
        [result](Napi::Env env) { return loss_to_js(env, *result); });
  });
}
NCOD_EXPORT("crossEntropyLs", CrossEntropyLs);

Napi::Value NnEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "nnEntropy");
    auto e = o.float32_array("features");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim");
    const double scale = o.number("scale");
    const int32_t* cancel = o.cancel_flag();

    check_matrix_length("features", e.length, rows, dim);
    if (rows < 2) fail(ErrorCode::Shape, "features", "at least 2 rows (each row needs a neighbour)", std::to_string(rows));
    check_finite("features", e.data, rows, dim);
    auto result = std::make_shared<LossResult>();
    const float* x = e.data;
    return PromiseWorker::Start(
        env, "ncod.nnEntropy", o.read_inputs(), cancel, Napi::Function(),
        [=](const RunContext& context) {
          context.throw_if_cancelled();
          result->grad.resize(rows * dim);
          result->loss = nn_entropy(x, rows, dim, scale, result->grad.data());
          context.throw_if_cancelled();  // one step without a cancel point: an abort during it rejects now
        },
        [result](Napi::Env env) { return loss_to_js(env, *result); });
  });
}
NCOD_EXPORT("nnEntropy", NnEntropy);

Napi::Value EtfProjector(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "etfProjector");
    auto e = o.float32_array("features");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim");
    const size_t hidden = o.size("hiddenWidth", size_t(1) << 20);
    auto g = o.optional_float32_array("dz");
    const int32_t* cancel = o.cancel_flag();

    check_matrix_length("features", e.length, rows, dim);
    if (dim < 2) fail(ErrorCode::Shape, "dim", "at least 2 (the ETF needs c ≥ 2)", std::to_string(dim));
    if (hidden < dim) fail(ErrorCode::Shape, "hiddenWidth", "at least dim = " + std::to_string(dim), std::to_string(hidden));
    check_finite("features", e.data, rows, dim);
    if (given(g)) check_matrix_length("dz", g.length, rows, dim);
    const float* dz = g.data;
    struct Out {
      std::vector<float> hidden, z, de;
    };
    auto out = std::make_shared<Out>();
    const float* x = e.data;
    return PromiseWorker::Start(
        env, "ncod.etfProjector", o.read_inputs(), cancel, Napi::Function(),
        [=](const RunContext& context) {
          context.throw_if_cancelled();  // before, between and after the two passes (neither has a cancel point)
          out->hidden.resize(rows * hidden);
          out->z.resize(rows * dim);
          etf_projector_forward(x, rows, dim, hidden, out->hidden.data(), out->z.data());
          context.throw_if_cancelled();
          if (dz) {
            out->de.resize(rows * dim);
            etf_projector_backward(out->hidden.data(), out->z.data(), dz, rows, dim, hidden, out->de.data());
            context.throw_if_cancelled();
          }
        },
        [out, dz](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("hidden", to_float32_array(env, out->hidden));
          o.Set("z", to_float32_array(env, out->z));
          o.Set("de", dz ? Napi::Value(to_float32_array(env, out->de)) : env.Null());
          return o;
        });
  });
}
NCOD_EXPORT("etfProjector", EtfProjector);

}  // namespace ncod::binding
