// NcAccumulator as a JS class: new NcAccumulator(dim, numClasses, backend) or NcAccumulator.fromState(state, backend);
// add(features, labels, rows, cancelFlag, onProgress) -> Promise; addOod(features, rows, cancelFlag, onProgress)
// -> Promise; merge(other); state() -> {dim, classes, shift, counts, sums, sqNorms, scatter, oodCount, oodSums};
// finalize(weights|null, bias|null, weightedGlobalMean, rankTolerance) -> Promise<metrics>.
#include <memory>

#include "../core/checks.h"
#include "../core/nc_accumulator.h"
#include "addon_data.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace ncod::binding {

namespace {

std::vector<double> float64_vector(Napi::Env env, Napi::Object state, const char* key) {
  Napi::Value v = state.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_error(env, ErrorCode::Dtype, std::string("state.") + key + ": expected Float64Array");
  }
  auto a = v.As<Napi::Float64Array>();
  return std::vector<double>(a.Data(), a.Data() + a.ElementLength());
}

class AccumulatorWrap : public Napi::ObjectWrap<AccumulatorWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NcAccumulator",
                       {InstanceMethod<&AccumulatorWrap::Add>("add"), InstanceMethod<&AccumulatorWrap::AddOod>("addOod"),
                        InstanceMethod<&AccumulatorWrap::Merge>("merge"), InstanceMethod<&AccumulatorWrap::State>("state"),
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
      check_arity(info, 3, "NcAccumulator");
      const size_t dim = count(env, info[0], "dim", 16384);
      const size_t classes = count(env, info[1], "numClasses", size_t(1) << 20);
      kind_ = static_cast<BackendKind>(count(env, info[2], "backend", 1));
      acc_ = std::make_shared<NcAccumulator>(dim, classes);
      return 0;
    });
  }

 private:
  struct Init {
    std::shared_ptr<NcAccumulator> acc;
    BackendKind kind;
  };

  static Napi::Value FromState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 2, "NcAccumulator.fromState");
      if (!info[0].IsObject()) throw_error(env, ErrorCode::InvalidArgument, "state: expected an object");
      Napi::Object o = info[0].As<Napi::Object>();
      NcAccumulatorState s;
      s.dim = count(env, o.Get("dim"), "state.dim", 16384);
      s.classes = count(env, o.Get("classes"), "state.classes", size_t(1) << 20);
      s.shift = float64_vector(env, o, "shift");
      s.counts = float64_vector(env, o, "counts");
      s.sums = float64_vector(env, o, "sums");
      s.sq_norms = float64_vector(env, o, "sqNorms");
      s.scatter = float64_vector(env, o, "scatter");
      s.ood_sums = float64_vector(env, o, "oodSums");
      if (!o.Get("oodCount").IsNumber()) throw_error(env, ErrorCode::InvalidArgument, "state.oodCount: expected a number");
      s.ood_count = o.Get("oodCount").As<Napi::Number>().DoubleValue();
      if (!(s.ood_count >= 0)) throw_error(env, ErrorCode::InvalidArgument, "state.oodCount: expected a count >= 0");
      Init init{std::make_shared<NcAccumulator>(std::move(s)), static_cast<BackendKind>(count(env, info[1], "backend", 1))};
      return constructor(env).New({Napi::External<Init>::New(env, &init)});
    });
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 5, "add");
      auto features = float32_array(env, info[0], "features");
      auto labels = int32_array(env, info[1], "labels");
      const size_t rows = count(env, info[2], "rows");
      const auto state = acc_->state();
      check_matrix_length("features", features.length, rows, state.dim);
      check_label_count(labels.length, rows);
      const int32_t* cancel = cancel_flag(env, info[3], "cancelFlag");
      const LabelledRows batch{features.data, labels.data, rows, state.dim};
      auto acc = acc_;
      const BackendKind kind = kind_;
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.add", {info[0], info[1], info[3], info.This()}, cancel,
          optional_function(env, info[4], "onProgress"),
          [acc, kind, batch](const RunContext& context) { acc->add(get_backend(kind), batch, context); },
          [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    });
  }

  Napi::Value AddOod(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 4, "addOod");
      auto features = float32_array(env, info[0], "oodFeatures");
      const size_t rows = count(env, info[1], "rows");
      check_matrix_length("oodFeatures", features.length, rows, acc_->state().dim);
      const int32_t* cancel = cancel_flag(env, info[2], "cancelFlag");
      auto acc = acc_;
      const BackendKind kind = kind_;
      const float* x = features.data;
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.addOod", {info[0], info[2], info.This()}, cancel,
          optional_function(env, info[3], "onProgress"),
          [acc, kind, x, rows](const RunContext& context) { acc->add_ood(get_backend(kind), x, rows, context); },
          [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    });
  }

  Napi::Value Merge(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "merge");
      if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(constructor(env))) {
        throw_error(env, ErrorCode::InvalidArgument, "merge: expected an NcAccumulator");
      }
      AccumulatorWrap* other = Unwrap(info[0].As<Napi::Object>());
      if (other->acc_ == acc_) throw_error(env, ErrorCode::InvalidArgument, "merge: expected another accumulator, got itself");
      acc_->merge(*other->acc_);
      return env.Undefined();
    });
  }

  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NcAccumulatorState s = acc_->state();
    Napi::Object o = Napi::Object::New(env);
    o.Set("dim", double(s.dim));
    o.Set("classes", double(s.classes));
    o.Set("shift", to_float64_array(env, std::move(s.shift)));
    o.Set("counts", to_float64_array(env, std::move(s.counts)));
    o.Set("sums", to_float64_array(env, std::move(s.sums)));
    o.Set("sqNorms", to_float64_array(env, std::move(s.sq_norms)));
    o.Set("scatter", to_float64_array(env, std::move(s.scatter)));
    o.Set("oodCount", s.ood_count);
    o.Set("oodSums", to_float64_array(env, std::move(s.ood_sums)));
    return o;
  }

  Napi::Value Finalize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 4, "finalize");
      const auto st = acc_->state();
      const size_t C = st.classes, d = st.dim;
      const float* weights = nullptr;
      const float* bias = nullptr;
      if (!info[0].IsNull() && !info[0].IsUndefined()) {
        auto w = float32_array(env, info[0], "weights");
        if (w.length != C * d) fail(ErrorCode::Shape, "weights", std::to_string(C * d) + " elements (numClasses × dim)", std::to_string(w.length) + " elements");
        weights = w.data;
      }
      if (!info[1].IsNull() && !info[1].IsUndefined()) {
        auto b = float32_array(env, info[1], "bias");
        if (b.length != C) fail(ErrorCode::Shape, "bias", std::to_string(C) + " elements", std::to_string(b.length) + " elements");
        bias = b.data;
      }
      const bool weighted = boolean(env, info[2], "weightedGlobalMean");
      if (!info[3].IsNumber()) throw_error(env, ErrorCode::InvalidArgument, "rankTolerance: expected a number");
      const double tol = info[3].As<Napi::Number>().DoubleValue();
      auto acc = acc_;
      const BackendKind kind = kind_;
      auto result = std::make_shared<NcMetrics>();
      return PromiseWorker::Start(
          env, "ncod.NcAccumulator.finalize", {info[0], info[1], info.This()}, nullptr, Napi::Function(),
          [acc, kind, weights, bias, weighted, tol, result](const RunContext&) {
            *result = acc->finalize(get_backend(kind), weights, bias, weighted, tol);
          },
          [result](Napi::Env env) -> Napi::Value { return nc_metrics_to_js(env, *result); });
    });
  }

  static Napi::Function constructor(Napi::Env env) { return addon_data(env).accumulator_class.Value(); }

  std::shared_ptr<NcAccumulator> acc_;
  BackendKind kind_ = BackendKind::Cpu;
};

}  // namespace

Napi::Function DefineNcAccumulator(Napi::Env env) {
  Napi::Function cls = AccumulatorWrap::Define(env);
  addon_data(env).accumulator_class = Napi::Persistent(cls);
  return cls;
}

}  // namespace ncod::binding
