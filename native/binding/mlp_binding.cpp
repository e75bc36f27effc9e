// trainEpoch({config, params, m, v, x, y, rows, order, epoch, backend, cancelFlag?, onProgress?})
//   -> Promise<{loss, ce, entropy, accuracy, step}>: one epoch of the NC-controlled MLP; params/m/v are
//   overwritten when the epoch completes and left untouched when it is aborted or fails.
// forwardLayer({config, params, x, rows, layer, backend, cancelFlag?, onProgress?}) -> Promise<Float32Array>.
// mlpGradients({config, params, x, y, rows, alpha, labelSmoothing, backend}) -> Promise<{ce, entropy, grads}>.
// config = {widths: number[], classes, projectorHidden, layerNorm?}; epoch = {batch, alpha, labelSmoothing, lr, beta1,
// beta2, eps, weightDecay, step}.
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
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

MlpConfig parse_config(OptionsReader o) {
  Napi::Value widths = o.value("widths");
  if (!widths.IsArray()) fail(ErrorCode::InvalidArgument, o.field("widths"), "an array", describe_js(widths));
  MlpConfig cfg;
  Napi::Array w = widths.As<Napi::Array>();
  if (w.Length() < 1 || w.Length() > 256) {
    fail(ErrorCode::InvalidArgument, o.field("widths"), "an array of 1 to 256 layer widths", std::to_string(w.Length()) + " elements");
  }
  const std::string element = o.field("widths") + "[]";
  for (uint32_t i = 0; i < w.Length(); ++i) cfg.widths.push_back(count(o.env(), w.Get(i), element.c_str(), size_t(1) << 20));
  cfg.classes = o.size("classes", size_t(1) << 20);
  cfg.projector_hidden = o.size("projectorHidden", size_t(1) << 20);
  cfg.layer_norm = o.optional_boolean("layerNorm", false);  // configs written before it existed have none
  check_mlp_config(cfg);
  return cfg;
}

// One Float32Array per parameter, each of the size the config implies.
// Native copies (convert.h); `writable` ones are copied back to the JS arrays when the call succeeds.
std::vector<float*> parameter_arrays(OptionsReader& o, const char* key, const MlpConfig& cfg, bool writable = false) {
  Napi::Env env = o.env();
  Napi::Value value = o.value(key);
  const std::string what = o.field(key);
  const std::vector<size_t> sizes = cfg.parameter_sizes();
  if (!value.IsArray() || value.As<Napi::Array>().Length() != sizes.size()) {
    fail(ErrorCode::Shape, what, "an array of " + std::to_string(sizes.size()) + " Float32Arrays", "something else");
  }
  Napi::Array a = value.As<Napi::Array>();
  std::vector<float*> out;
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    const std::string name = what + "[" + std::to_string(i) + "]";
    Napi::Value element = a.Get(i);
    const TypedView<const float> view =
        writable ? [&] { auto w = writable_float32_array(env, element, name.c_str()); return TypedView<const float>{w.data, w.length, w.owner}; }()
                 : float32_array(env, element, name.c_str());
    if (view.length != sizes[i]) {
      fail(ErrorCode::Shape, name, std::to_string(sizes[i]) + " elements",
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
    OptionsReader o = OptionsReader::only_argument(info, "trainEpoch");
    const MlpConfig cfg = parse_config(o.object("config"));
    MlpTensors t{parameter_arrays(o, "params", cfg, true), parameter_arrays(o, "m", cfg, true),
                 parameter_arrays(o, "v", cfg, true)};
    auto x = o.float32_array("x");
    auto y = o.int32_array("y");
    const size_t rows = o.size("rows");
    auto order = o.int32_array("order");
    OptionsReader e = o.object("epoch");
    EpochOptions eo;
    eo.batch = e.positive_size("batch", size_t(1) << 24);
    eo.alpha = e.number("alpha");
    eo.label_smoothing = e.number("labelSmoothing");
    eo.adamw = AdamWParams{e.number("lr"), e.number("beta1"), e.number("beta2"), e.number("eps"), e.number("weightDecay")};
    eo.step = static_cast<int64_t>(e.size("step"));
    const BackendKind kind = o.backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();

    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    if (y.length != rows) fail(ErrorCode::Shape, "y", std::to_string(rows) + " labels", std::to_string(y.length));
    if (order.length != rows) fail(ErrorCode::Shape, "order", std::to_string(rows) + " indices", std::to_string(order.length));
    check_labels(y.data, rows, cfg.classes);
    check_labels(order.data, rows, rows, "order");  // every index in [0, rows)
    check_finite("x", x.data, rows, cfg.widths[0]);
    if (!(eo.label_smoothing >= 0 && eo.label_smoothing < 1)) {
      fail(ErrorCode::InvalidArgument, e.field("labelSmoothing"), "a number in [0, 1)", std::to_string(eo.label_smoothing));
    }
    eo.x = x.data;
    eo.y = y.data;
    eo.rows = rows;
    eo.order = order.data;
    auto result = std::make_shared<EpochResult>();
    return PromiseWorker::Start(
        env, "ncod.trainEpoch", o.read_inputs(), cancel, on_progress,
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
NCOD_EXPORT("trainEpoch", TrainEpoch);

Napi::Value ForwardLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "forwardLayer");
    const MlpConfig cfg = parse_config(o.object("config"));
    const std::vector<float*> params = parameter_arrays(o, "params", cfg);
    auto x = o.float32_array("x");
    const size_t rows = o.size("rows");
    const size_t layer = o.size("layer", 1 << 20);
    const BackendKind kind = o.backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();

    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    check_finite("x", x.data, rows, cfg.widths[0]);
    const size_t width = layer_width(cfg, layer);
    if (width == 0) fail(ErrorCode::InvalidArgument, o.field("layer"), "a layer of this model", std::to_string(layer));
    auto out = std::make_shared<std::vector<float>>();
    const float* xp = x.data;
    const std::vector<const float*> p(params.begin(), params.end());
    return PromiseWorker::Start(
        env, "ncod.forwardLayer", o.read_inputs(), cancel, on_progress,
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
NCOD_EXPORT("forwardLayer", ForwardLayer);

// mlpGradients: the loss of one batch and the gradient of every parameter (for gradient checks and custom loops).
Napi::Value MlpGradients(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "mlpGradients");
    const MlpConfig cfg = parse_config(o.object("config"));
    const std::vector<float*> params = parameter_arrays(o, "params", cfg);
    auto x = o.float32_array("x");
    auto y = o.int32_array("y");
    const size_t rows = o.size("rows");
    const double alpha = o.number("alpha"), eps = o.number("labelSmoothing");
    const BackendKind kind = o.backend();

    check_matrix_length("x", x.length, rows, cfg.widths[0]);
    if (y.length != rows) fail(ErrorCode::Shape, "y", std::to_string(rows) + " labels", std::to_string(y.length));
    check_labels(y.data, rows, cfg.classes);
    check_finite("x", x.data, rows, cfg.widths[0]);
    struct Out {
      BatchLoss loss;
      std::vector<std::vector<float>> grads;
    };
    auto out = std::make_shared<Out>();
    const std::vector<const float*> p(params.begin(), params.end());
    const float* xp = x.data;
    const int32_t* yp = y.data;
    return PromiseWorker::Start(
        env, "ncod.mlpGradients", o.read_inputs(), nullptr, Napi::Function(),
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
NCOD_EXPORT("mlpGradients", MlpGradients);

}  // namespace ncod::binding
