#include "mlp.h"

#include <algorithm>
#include <string>

#include "error.h"

namespace ncod {

namespace {

// Activations of one batch: h[0] the input rows, h[l+1] the output of encoder layer l.
struct Activations {
  std::vector<std::vector<float>> h;
  std::vector<float> hidden, z, logits;
  Activations(const MlpConfig& cfg, size_t batch) {
    for (size_t w : cfg.widths) h.emplace_back(batch * w);
    if (cfg.projector_hidden) {
      hidden.resize(batch * cfg.projector_hidden);
      z.resize(batch * cfg.encoder_dim());
    }
    logits.resize(batch * cfg.classes);
  }
};

// Forward pass of n rows already in a.h[0]; returns the classifier input.
const float* forward(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& p, size_t n,
                     Activations& a) {
  const size_t L = cfg.layers();
  for (size_t l = 0; l < L; ++l) {
    const size_t in = cfg.widths[l], out = cfg.widths[l + 1];
    k.sgemm(false, true, n, out, in, a.h[l].data(), p[2 * l], 0.0f, a.h[l + 1].data());
    k.bias_activation(a.h[l + 1].data(), p[2 * l + 1], n, out, true);
  }
  const size_t d = cfg.encoder_dim();
  const float* features = a.h[L].data();
  if (cfg.projector_hidden) {
    k.etf_projector_forward(features, n, d, cfg.projector_hidden, a.hidden.data(), a.z.data());
    features = a.z.data();
  }
  k.sgemm(false, true, n, cfg.classes, d, features, p[2 * L], 0.0f, a.logits.data());
  k.bias_activation(a.logits.data(), p[2 * L + 1], n, cfg.classes, false);
  return features;
}

std::vector<const float*> as_const(const std::vector<float*>& v) { return {v.begin(), v.end()}; }

}  // namespace

std::vector<size_t> MlpConfig::parameter_sizes() const {
  std::vector<size_t> sizes;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    sizes.push_back(widths[l + 1] * widths[l]);
    sizes.push_back(widths[l + 1]);
  }
  sizes.push_back(classes * encoder_dim());
  sizes.push_back(classes);
  return sizes;
}

void check_mlp_config(const MlpConfig& cfg) {
  // widths = [d] alone is a linear classifier on the inputs (a linear probe).
  if (cfg.widths.empty()) fail(ErrorCode::InvalidArgument, "layers", "at least the input width", "none");
  for (size_t w : cfg.widths) {
    if (w < 1) fail(ErrorCode::InvalidArgument, "layer width", "at least 1", "0");
  }
  if (cfg.classes < 2) fail(ErrorCode::InvalidArgument, "classes", "at least 2", std::to_string(cfg.classes));
  if (cfg.projector_hidden && (cfg.encoder_dim() < 2 || cfg.projector_hidden < cfg.encoder_dim())) {
    fail(ErrorCode::InvalidArgument, "projector width", "at least the encoder width (≥ 2) = " + std::to_string(cfg.encoder_dim()),
         std::to_string(cfg.projector_hidden));
  }
}

// Workspace for batch_gradients, sized for batches of up to `batch` rows.
struct BatchWorkspace {
  Activations a;
  std::vector<float> dlogits, dz, de_ent;
  std::vector<std::vector<float>> dh;
  BatchWorkspace(const MlpConfig& cfg, size_t batch)
      : a(cfg, batch), dlogits(batch * cfg.classes), dz(batch * cfg.encoder_dim()), de_ent(batch * cfg.encoder_dim()) {
    for (size_t w : cfg.widths) dh.emplace_back(batch * w);
  }
};

BatchLoss batch_gradients(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& p, const float* x,
                          const int32_t* y, size_t n, double alpha, double label_smoothing,
                          const std::vector<float*>& grads, BatchWorkspace& w) {
  const size_t L = cfg.layers(), d = cfg.encoder_dim(), C = cfg.classes;
  Activations& a = w.a;
  std::copy(x, x + n * cfg.widths[0], a.h[0].begin());
  const float* features = forward(k, cfg, p, n, a);

  BatchLoss loss;
  loss.ce = k.cross_entropy_ls(a.logits.data(), y, n, C, label_smoothing, w.dlogits.data());
  const bool with_entropy = alpha != 0 && n >= 2;  // a single row has no neighbour
  if (with_entropy) loss.entropy = k.nn_entropy(a.h[L].data(), n, d, alpha, w.de_ent.data());
  for (size_t i = 0; i < n; ++i) {
    const float* z = a.logits.data() + i * C;
    loss.correct += size_t(std::max_element(z, z + C) - z) == size_t(y[i]);
  }

  // Classifier: dW = dlogitsᵀ·features, db = Σ dlogits, d(features) = dlogits·W.
  k.sgemm(true, false, C, d, n, w.dlogits.data(), features, 0.0f, grads[2 * L]);
  k.activation_backward(w.dlogits.data(), nullptr, n, C, false, grads[2 * L + 1]);
  float* d_features = cfg.projector_hidden ? w.dz.data() : w.dh[L].data();
  k.sgemm(false, false, n, d, C, w.dlogits.data(), p[2 * L], 0.0f, d_features);
  if (cfg.projector_hidden) {
    k.etf_projector_backward(a.hidden.data(), a.z.data(), w.dz.data(), n, d, cfg.projector_hidden, w.dh[L].data());
  }
  if (with_entropy) {
    for (size_t q = 0; q < n * d; ++q) w.dh[L][q] += w.de_ent[q];
  }
  for (size_t l = L; l-- > 0;) {
    const size_t li = cfg.widths[l], lo = cfg.widths[l + 1];
    k.activation_backward(w.dh[l + 1].data(), a.h[l + 1].data(), n, lo, true, grads[2 * l + 1]);
    k.sgemm(true, false, lo, li, n, w.dh[l + 1].data(), a.h[l].data(), 0.0f, grads[2 * l]);
    if (l > 0) k.sgemm(false, false, n, li, lo, w.dh[l + 1].data(), p[2 * l], 0.0f, w.dh[l].data());
  }
  return loss;
}

BatchLoss batch_gradients(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& params,
                          const float* x, const int32_t* y, size_t n, double alpha, double label_smoothing,
                          const std::vector<float*>& grads) {
  BatchWorkspace w(cfg, n);
  return batch_gradients(k, cfg, params, x, y, n, alpha, label_smoothing, grads, w);
}

EpochResult train_epoch(TrainKernels& k, const MlpConfig& cfg, const MlpTensors& t, const EpochOptions& o,
                        const RunContext& context) {
  const size_t in = cfg.widths[0];
  const size_t B = std::max<size_t>(1, std::min(o.batch, o.rows));
  const std::vector<size_t> sizes = cfg.parameter_sizes();
  BatchWorkspace w(cfg, B);
  std::vector<std::vector<float>> grad_storage;
  std::vector<float*> grads;
  for (size_t s : sizes) grads.push_back(grad_storage.emplace_back(s).data());
  std::vector<float> xb(B * in);
  std::vector<int32_t> yb(B);
  const std::vector<const float*> p = as_const(t.params);

  EpochResult r;
  r.step = o.step;
  double correct = 0;
  for (size_t start = 0; start < o.rows; start += B) {
    context.throw_if_cancelled();
    const size_t n = std::min(B, o.rows - start);
    for (size_t i = 0; i < n; ++i) {
      const size_t row = static_cast<size_t>(o.order[start + i]);
      std::copy(o.x + row * in, o.x + (row + 1) * in, xb.begin() + i * in);
      yb[i] = o.y[row];
    }
    const BatchLoss loss = batch_gradients(k, cfg, p, xb.data(), yb.data(), n, o.alpha, o.label_smoothing, grads, w);
    r.ce += loss.ce * double(n);
    r.entropy += loss.entropy * double(n);
    correct += double(loss.correct);
    ++r.step;
    for (size_t q = 0; q < sizes.size(); ++q) k.adamw(t.params[q], grads[q], t.m[q], t.v[q], sizes[q], o.adamw, r.step);
    context.progress(double(start + n) / double(o.rows));
  }
  r.ce /= double(o.rows);
  r.entropy /= double(o.rows);
  r.loss = r.ce + o.alpha * r.entropy;
  r.accuracy = correct / double(o.rows);
  return r;
}

size_t layer_width(const MlpConfig& cfg, size_t layer) {
  const size_t L = cfg.layers();
  if (layer < L) return cfg.widths[layer + 1];
  if (layer == L) return cfg.projector_hidden;
  if (layer == L + 1) return cfg.projector_hidden ? cfg.encoder_dim() : 0;
  if (layer == L + 2) return cfg.classes;
  return 0;
}

void forward_layer(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& p, const float* x,
                   size_t rows, size_t layer, float* out, const RunContext& context) {
  const size_t L = cfg.layers(), in = cfg.widths[0], width = layer_width(cfg, layer);
  if (width == 0) fail(ErrorCode::InvalidArgument, "layer", "an encoder layer, projector layer (with a projector) or logits", std::to_string(layer));
  const size_t block = 1024;
  Activations a(cfg, std::min(block, rows));
  for (size_t start = 0; start < rows; start += block) {
    context.throw_if_cancelled();
    const size_t n = std::min(block, rows - start);
    std::copy(x + start * in, x + (start + n) * in, a.h[0].begin());
    forward(k, cfg, p, n, a);
    const float* src = layer < L ? a.h[layer + 1].data() : layer == L ? a.hidden.data() : layer == L + 1 ? a.z.data() : a.logits.data();
    std::copy(src, src + n * width, out + start * width);
    context.progress(double(start + n) / double(rows));
  }
}

}  // namespace ncod
