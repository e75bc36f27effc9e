// trainEpoch(config, params, m, v, x, y, rows, order, options, backend, cancelFlag, onProgress)
//   -> Promise<{loss, ce, entropy, accuracy, step}>: one epoch of the NC-controlled MLP; params/m/v are
//   overwritten when the epoch completes and left untouched when it is aborted or fails.
// forwardLayer(config, params, x, rows, layer, backend, cancelFlag, onProgress) -> Promise<Float32Array>.
// config = {widths: number[], classes, projectorHidden, layerNorm?}; options = {batch, alpha, labelSmoothing, lr, beta1, beta2,
// eps, weightDecay, step}.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/checks.h"
#include "../core/mlp.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace ncod::binding {

namespace {

double number(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw_error(env, ErrorCode::InvalidArgument, std::string(key) + ": expected a number");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x)) throw_error(env, ErrorCode::InvalidArgument, std::string(key) + ": expected a finite number");
  return x;
}

MlpConfig parse_config(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw_error(env, ErrorCode::InvalidArgument, "config: expected an object");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value widths = o.Get("widths");
  if (!widths.IsArray()) throw_error(env, ErrorCode::InvalidArgument, "config.widths: expected an array");
  MlpConfig cfg;
  Napi::Array w = widths.As<Napi::Array>();
  if (w.Length() < 1 || w.Length() > 256) {
    fail(ErrorCode::InvalidArgument, "config.widths", "an array of 1 to 256 layer widths", std::to_string(w.Length()) + " elements");
  }
  for (uint32_t i = 0; i < w.Length(); ++i) cfg.widths.push_back(count(env, w.Get(i), "config.widths[]", size_t(1) << 20));
  cfg.classes = count(env, o.Get("classes"), "config.classes", size_t(1) << 20);
  cfg.projector_hidden = count(env, o.Get("projectorHidden"), "config.projectorHidden", size_t(1) << 20);
  const Napi::Value layer_norm = o.Get("layerNorm");  // optional: configs written before it existed have none
  cfg.layer_norm = !layer_norm.IsUndefined() && boolean(env, layer_norm, "config.layerNorm");
  check_mlp_config(cfg);
  return cfg;
}

// One Float32Array per parameter, each of the size the config implies.
// Native copies (convert.h); `writable` ones are copied back to the JS arrays when the call succeeds.
std::vector<float*> parameter_arrays(Napi::Env env, Napi::Value value, const MlpConfig& cfg, const char* what,
                                     bool writable = false) {
  const std::vector<size_t> sizes = cfg.parameter_sizes();
  if (!value.IsArray() || value.As<Napi::Array>().Length() != sizes.size()) {
    fail(ErrorCode::Shape, what, "an array of " + std::to_string(sizes.size()) + " Float32Arrays", "something else");
  }
  Napi::Array a = value.As<Napi::Array>();
  std::vector<float*> out;
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    const std::string name = std::string(what) + "[" + std::to_string(i) + "]";
    Napi::Value element = a.Get(i);
    const TypedView<const float> view =
        writable ? [&] { auto w = writable_float32_array(env, element, name.c_str()); return TypedView<const float>{w.data, w.length, w.owner}; }()
                 : float32_array(env, element, name.c_str());
    if (view.length != sizes[i]) {
      fail(ErrorCode::Shape, std::string(what) + "[" + std::to_string(i) + "]", std::to_string(sizes[i]) + " elements",
           std::to_string(view.length));
    }
    out.push_back(const_cast<float*>(view.data));  // a native copy: writable ones are written back on success
  }
  return out;
}

}  // namespace

Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 12, "trainEpoch");
    const MlpConfig cfg = parse_config(env, info[0]);
    MlpTensors t{parameter_arrays(env, info[1], cfg, "params", true), parameter_arrays(env, info[2], cfg, "m", true),
                 parameter_arrays(env, info[3], cfg, "v", true)};
    auto x = float32_array(env, info[4], "x");
    auto y = int32_array(env, info[5], "y");
    const size_t rows = count(env, info[6], "rows");
    auto order = int32_array(env, info[7], "order");
    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    if (y.length != rows) fail(ErrorCode::Shape, "y", std::to_string(rows) + " labels", std::to_string(y.length));
    if (order.length != rows) fail(ErrorCode::Shape, "order", std::to_string(rows) + " indices", std::to_string(order.length));
    check_labels(y.data, rows, cfg.classes);
    check_labels(order.data, rows, rows, "order");  // every index in [0, rows)
    check_finite("x", x.data, rows, cfg.widths[0]);
    if (!info[8].IsObject()) throw_error(env, ErrorCode::InvalidArgument, "options: expected an object");
    Napi::Object o = info[8].As<Napi::Object>();
    EpochOptions eo;
    eo.x = x.data;
    eo.y = y.data;
    eo.rows = rows;
    eo.order = order.data;
    eo.batch = count(env, o.Get("batch"), "batch", size_t(1) << 24);
    if (eo.batch < 1) throw_error(env, ErrorCode::InvalidArgument, "batch: expected at least 1, got 0");
    eo.alpha = number(env, o, "alpha");
    eo.label_smoothing = number(env, o, "labelSmoothing");
    if (!(eo.label_smoothing >= 0 && eo.label_smoothing < 1)) throw_error(env, ErrorCode::InvalidArgument, "labelSmoothing: expected a number in [0, 1)");
    eo.adamw = AdamWParams{number(env, o, "lr"), number(env, o, "beta1"), number(env, o, "beta2"), number(env, o, "eps"),
                           number(env, o, "weightDecay")};
    eo.step = static_cast<int64_t>(count(env, o.Get("step"), "step"));
    const auto kind = static_cast<BackendKind>(count(env, info[9], "backend", 1));
    const int32_t* cancel = cancel_flag(env, info[10], "cancelFlag");
    auto result = std::make_shared<EpochResult>();
    return PromiseWorker::Start(
        env, "ncod.trainEpoch", {info[1], info[2], info[3], info[4], info[5], info[7], info[10]}, cancel,
        optional_function(env, info[11], "onProgress"),
        [=](const RunContext& context) { *result = train_epoch(get_train_kernels(kind), cfg, t, eo, context); },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("loss", result->loss);
          out.Set("ce", result->ce);
          out.Set("entropy", result->entropy);
          out.Set("accuracy", result->accuracy);
          out.Set("step", double(result->step));
          return out;
        });
  });
}

Napi::Value ForwardLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 8, "forwardLayer");
    const MlpConfig cfg = parse_config(env, info[0]);
    const std::vector<float*> params = parameter_arrays(env, info[1], cfg, "params");
    auto x = float32_array(env, info[2], "x");
    const size_t rows = count(env, info[3], "rows");
    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    check_finite("x", x.data, rows, cfg.widths[0]);
    const size_t layer = count(env, info[4], "layer", 1 << 20);
    const size_t width = layer_width(cfg, layer);
    if (width == 0) fail(ErrorCode::InvalidArgument, "layer", "a layer of this model", std::to_string(layer));
    const auto kind = static_cast<BackendKind>(count(env, info[5], "backend", 1));
    const int32_t* cancel = cancel_flag(env, info[6], "cancelFlag");
    auto out = std::make_shared<std::vector<float>>();
    const float* xp = x.data;
    const std::vector<const float*> p(params.begin(), params.end());
    return PromiseWorker::Start(
        env, "ncod.forwardLayer", {info[1], info[2], info[6]}, cancel, optional_function(env, info[7], "onProgress"),
        [=](const RunContext& context) {
          out->resize(rows * width);
          forward_layer(get_train_kernels(kind), cfg, p, xp, rows, layer, out->data(), context);
        },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Float32Array a = Napi::Float32Array::New(env, out->size());
          std::copy(out->begin(), out->end(), a.Data());
          return a;
        });
  });
}

}  // namespace ncod::binding

namespace ncod::binding {

// mlpGradients(config, params, x, y, rows, alpha, labelSmoothing, backend) -> Promise<{ce, entropy, grads}>:
// the loss of one batch and the gradient of every parameter (for gradient checks and custom loops).
Napi::Value MlpGradients(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 8, "mlpGradients");
    const MlpConfig cfg = parse_config(env, info[0]);
    const std::vector<float*> params = parameter_arrays(env, info[1], cfg, "params");
    auto x = float32_array(env, info[2], "x");
    auto y = int32_array(env, info[3], "y");
    const size_t rows = count(env, info[4], "rows");
    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    if (y.length != rows) fail(ErrorCode::Shape, "y", std::to_string(rows) + " labels", std::to_string(y.length));
    check_labels(y.data, rows, cfg.classes);
    check_finite("x", x.data, rows, cfg.widths[0]);
    if (!info[5].IsNumber() || !info[6].IsNumber()) throw_error(env, ErrorCode::InvalidArgument, "alpha, labelSmoothing: expected numbers");
    const double alpha = info[5].As<Napi::Number>().DoubleValue(), eps = info[6].As<Napi::Number>().DoubleValue();
    const auto kind = static_cast<BackendKind>(count(env, info[7], "backend", 1));
    struct Out {
      BatchLoss loss;
      std::vector<std::vector<float>> grads;
    };
    auto out = std::make_shared<Out>();
    const std::vector<const float*> p(params.begin(), params.end());
    const float* xp = x.data;
    const int32_t* yp = y.data;
    return PromiseWorker::Start(
        env, "ncod.mlpGradients", {info[1], info[2], info[3]}, nullptr, Napi::Function(),
        [=](const RunContext&) {
          std::vector<float*> g;
          for (size_t s : cfg.parameter_sizes()) g.push_back(out->grads.emplace_back(s).data());
          out->loss = batch_gradients(get_train_kernels(kind), cfg, p, xp, yp, rows, alpha, eps, g);
        },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("ce", out->loss.ce);
          o.Set("entropy", out->loss.entropy);
          Napi::Array grads = Napi::Array::New(env, out->grads.size());
          for (uint32_t i = 0; i < out->grads.size(); ++i) {
            Napi::Float32Array a = Napi::Float32Array::New(env, out->grads[i].size());
            std::copy(out->grads[i].begin(), out->grads[i].end(), a.Data());
            grads.Set(i, a);
          }
          o.Set("grads", grads);
          return o;
        });
  });
}

}  // namespace ncod::binding
