// NcAccumulator as a JS class: new NcAccumulator({dim, numClasses, backend}) or NcAccumulator.fromState({state,
// backend}); add({features, labels, rows, cancelFlag?, onProgress?}) -> Promise; addOod({features, rows, cancelFlag?,
// onProgress?}) -> Promise; merge(other); mergeAsync(other) -> Promise; state(withScatter = true) -> {dim, classes,
// shift, counts, sums, sqNorms, scatter, oodCount, oodSums}; stateAsync() -> Promise<state>;
// finalize({weights?, bias?, weightedGlobalMean, rankTolerance?, cancelFlag?}) -> Promise<metrics>.
// Each object reports its state's bytes to V8 (AdjustExternalMemory), so dropped accumulators trigger collection.
#include <memory>

#include "../core/checks.h"
#include "../core/nc_accumulator.h"
#include "addon_data.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

std::vector<double> float64_vector(OptionsReader& state, const char* key) {
  Napi::Value v = state.value(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    fail(ErrorCode::Dtype, state.field(key), "Float64Array", describe_js(v));
  }
  auto a = v.As<Napi::Float64Array>();
  return std::vector<double>(a.Data(), a.Data() + a.ElementLength());
}

// A JS-owned copy (the state stays the accumulator's; one copy, made under its lock by the caller).
Napi::Float64Array copy_to_js(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

// The state as the JS object of binding.d.ts; `array` turns each vector into a Float64Array (copied or adopted).
template <typename State, typename ToArray>
Napi::Object state_to_js(Napi::Env env, State&& s, ToArray&& array) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("dim", double(s.dim));
  o.Set("classes", double(s.classes));
  o.Set("shift", array(s.shift));
  o.Set("counts", array(s.counts));
  o.Set("sums", array(s.sums));
  o.Set("sqNorms", array(s.sq_norms));
  o.Set("scatter", array(s.scatter));
  o.Set("oodCount", s.ood_count);
  o.Set("oodSums", array(s.ood_sums));
  return o;
}

class AccumulatorWrap : public Napi::ObjectWrap<AccumulatorWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NcAccumulator",
                       {InstanceMethod<&AccumulatorWrap::Add>("add"), InstanceMethod<&AccumulatorWrap::AddOod>("addOod"),
                        InstanceMethod<&AccumulatorWrap::Merge>("merge"),
                        InstanceMethod<&AccumulatorWrap::MergeAsync>("mergeAsync"),
                        InstanceMethod<&AccumulatorWrap::State>("state"),
                        InstanceMethod<&AccumulatorWrap::StateAsync>("stateAsync"),
                        InstanceMethod<&AccumulatorWrap::Finalize>("finalize"),
                        StaticMethod<&AccumulatorWrap::FromState>("fromState")});
  }

  AccumulatorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AccumulatorWrap>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      if (info.Length() == 1 && info[0].IsExternal()) {  // from fromState()
        auto* init = info[0].As<Napi::External<Init>>().Data();
        acc_ = init->acc;
        kind_ = init->kind;
        return 0;
      }
      OptionsReader o = OptionsReader::only_argument(info, "NcAccumulator");
      const size_t dim = o.size("dim", 16384);
      const size_t classes = o.size("numClasses", size_t(1) << 20);
      kind_ = o.backend();
      acc_ = std::make_shared<NcAccumulator>(dim, classes);
      return 0;
    });
    report_external_memory(env);
  }

  // The state's bytes leave V8's count with the JS object (in-flight workers hold the object, so never before).
  void Finalize(Napi::Env env) override {
    if (external_bytes_ > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
    external_bytes_ = 0;
  }

 private:
  struct Init {
    std::shared_ptr<NcAccumulator> acc;
    BackendKind kind;
  };

  static Napi::Value FromState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      OptionsReader o = OptionsReader::only_argument(info, "NcAccumulator.fromState");
      OptionsReader state = o.object("state");
      NcAccumulatorState s;
      s.dim = state.size("dim", 16384);
      s.classes = state.size("classes", size_t(1) << 20);
      s.shift = float64_vector(state, "shift");
      s.counts = float64_vector(state, "counts");
      s.sums = float64_vector(state, "sums");
      s.sq_norms = float64_vector(state, "sqNorms");
      s.scatter = float64_vector(state, "scatter");
      s.ood_sums = float64_vector(state, "oodSums");
      s.ood_count = state.number("oodCount");
      if (!(s.ood_count >= 0)) fail(ErrorCode::InvalidArgument, state.field("oodCount"), "a count >= 0", std::to_string(s.ood_count));
      Init init{std::make_shared<NcAccumulator>(std::move(s)), o.backend()};
      return constructor(env).New({Napi::External<Init>::New(env, &init)});
    });
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      OptionsReader o = OptionsReader::only_argument(info, "add");
      auto features = o.float32_array("features");
      auto labels = o.int32_array("labels");
      const size_t rows = o.size("rows");
      const int32_t* cancel = o.cancel_flag();
      Napi::Function on_progress = o.progress();
      const size_t dim = acc_->dim();  // not from state(): that would copy the d×d scatter on the JS thread
      check_matrix_length("features", features.length, rows, dim);
      check_label_count(labels.length, rows);
      const LabelledRows batch{features.data, labels.data, rows, dim};
      auto acc = acc_;
      const BackendKind kind = kind_;
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.add", o.read_inputs_and_this(info), cancel, on_progress,
          [acc, kind, batch](const RunContext& context) { acc->add(get_backend(kind), batch, context); },
          [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    });
  }

  Napi::Value AddOod(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      OptionsReader o = OptionsReader::only_argument(info, "addOod");
      auto features = o.float32_array("features");
      const size_t rows = o.size("rows");
      const int32_t* cancel = o.cancel_flag();
      Napi::Function on_progress = o.progress();
      check_matrix_length("features", features.length, rows, acc_->dim());
      auto acc = acc_;
      const BackendKind kind = kind_;
      const float* x = features.data;
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.addOod", o.read_inputs_and_this(info), cancel, on_progress,
          [acc, kind, x, rows](const RunContext& context) { acc->add_ood(get_backend(kind), x, rows, context); },
          [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    });
  }

  Napi::Value Merge(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "merge");
      acc_->merge(*other_accumulator(env, info[0], "merge")->acc_);
      return env.Undefined();
    });
  }

  // merge() off the JS thread: O(d²) work (about 0.1 s at d = 8192) that a server's event loop should not wait on.
  Napi::Value MergeAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "mergeAsync");
      auto other = other_accumulator(env, info[0], "mergeAsync")->acc_;
      auto acc = acc_;
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.mergeAsync", {info[0], info.This()}, nullptr, Napi::Function(),
          [acc, other](const RunContext&) { acc->merge(*other); },
          [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    });
  }

  // One copy, under the lock, straight into JS-owned arrays; withScatter = false leaves out the d×d matrix for
  // callers that read only counts, sums or the shift.
  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() > 1) fail(ErrorCode::InvalidArgument, "state", "at most 1 argument", std::to_string(info.Length()) + " arguments");
      const bool with_scatter = info.Length() == 0 || info[0].IsUndefined() || boolean(env, info[0], "withScatter");
      Napi::Object o;
      acc_->with_state([&](const NcAccumulatorState& s) {
        o = state_to_js(env, s, [&](const std::vector<double>& v) {
          return &v == &s.scatter && !with_scatter ? Napi::Float64Array::New(env, 0) : copy_to_js(env, v);
        });
      });
      return o;
    });
  }

  // The copy on a worker thread; the JS arrays then adopt the copied vectors (no second copy).
  Napi::Value StateAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 0, "stateAsync");
      auto acc = acc_;
      auto result = std::make_shared<NcAccumulatorState>();
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.stateAsync", {info.This()}, nullptr, Napi::Function(),
          [acc, result](const RunContext&) { *result = acc->state(); },
          [result](Napi::Env env) -> Napi::Value {
            return state_to_js(env, *result, [&](std::vector<double>& v) { return to_float64_array(env, std::move(v)); });
          });
    });
  }

  Napi::Value Finalize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      OptionsReader o = OptionsReader::only_argument(info, "finalize");
      auto w = o.optional_float32_array("weights");
      auto b = o.optional_float32_array("bias");
      const bool weighted = o.boolean("weightedGlobalMean");
      const double tol = rank_tolerance(o);
      const int32_t* cancel = o.cancel_flag();
      const size_t C = acc_->classes(), d = acc_->dim();
      check_optional_length(o.field("weights"), w, C * d, std::to_string(C * d) + " elements (numClasses × dim)");
      check_optional_length(o.field("bias"), b, C, std::to_string(C) + " elements");
      const float* weights = w.data;
      const float* bias = b.data;
      auto acc = acc_;
      const BackendKind kind = kind_;
      auto result = std::make_shared<NcMetrics>();
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.finalize", o.read_inputs_and_this(info), cancel, Napi::Function(),
          [acc, kind, weights, bias, weighted, tol, result](const RunContext& context) {
            *result = acc->finalize(get_backend(kind), weights, bias, weighted, tol, context);
          },
          [result](Napi::Env env) -> Napi::Value { return nc_metrics_to_js(env, *result); });
    });
  }

  static Napi::Function constructor(Napi::Env env) { return addon_data(env).accumulator_class.Value(); }

  // V8 sees only a small JS object; without this a loop dropping 8 MB accumulators grows RSS without a collection.
  void report_external_memory(Napi::Env env) {
    if (!acc_) return;  // the constructor threw
    external_bytes_ = static_cast<int64_t>(NcAccumulator::state_bytes(acc_->dim(), acc_->classes()));
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
  }

  AccumulatorWrap* other_accumulator(Napi::Env env, Napi::Value value, const char* what) {
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor(env))) {
      fail(ErrorCode::InvalidArgument, what, "an NcAccumulator", describe_js(value));
    }
    AccumulatorWrap* other = Unwrap(value.As<Napi::Object>());
    if (other->acc_ == acc_) fail(ErrorCode::InvalidArgument, what, "another accumulator", "itself");
    return other;
  }

  std::shared_ptr<NcAccumulator> acc_;
  BackendKind kind_ = BackendKind::Cpu;
  int64_t external_bytes_ = 0;
};

}  // namespace

Napi::Function DefineNcAccumulator(Napi::Env env) {
  Napi::Function cls = AccumulatorWrap::Define(env);
  addon_data(env).accumulator_class = Napi::Persistent(cls);
  return cls;
}
NCOD_EXPORT("NcAccumulator", DefineNcAccumulator);

}  // namespace ncod::binding
