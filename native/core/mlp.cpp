#include "mlp.h"

#include <algorithm>
#include <string>

#include "error.h"
#include "kernel_buffer.h"

namespace ncod {

namespace {

using FloatBuffer = KernelBuffer<float>;
using IntBuffer = KernelBuffer<int32_t>;

// One kernel buffer per tensor, of the given sizes; filled from host arrays when `host` is given.
std::vector<FloatBuffer> tensors(TrainKernels& k, const std::vector<size_t>& sizes, const float* const* host = nullptr) {
  std::vector<FloatBuffer> out;
  for (size_t q = 0; q < sizes.size(); ++q) {
    out.emplace_back(k, sizes[q]);
    if (host != nullptr) out.back().upload(host[q], sizes[q]);
  }
  return out;
}

std::vector<const float*> pointers(const std::vector<FloatBuffer>& v) {
  std::vector<const float*> out;
  for (const FloatBuffer& b : v) out.push_back(b.data());
  return out;
}

// Activations of one batch in kernel memory: h[0] the input rows, h[l+1] the output of encoder layer l. With
// LayerNorm, pre[l+1] is layer l's Linear output and mean/rstd[l+1] its per-row statistics (index 0 unused).
struct Activations {
  std::vector<FloatBuffer> h, pre, mean, rstd;
  FloatBuffer hidden, z, logits;
  Activations(TrainKernels& k, const MlpConfig& cfg, size_t batch) {
    for (size_t w : cfg.widths) h.emplace_back(k, batch * w);
    if (cfg.layer_norm) {
      for (size_t l = 0; l < cfg.widths.size(); ++l) {
        pre.emplace_back(k, l == 0 ? 0 : batch * cfg.widths[l]);
        mean.emplace_back(k, l == 0 ? 0 : batch);
        rstd.emplace_back(k, l == 0 ? 0 : batch);
      }
    }
    if (cfg.projector_hidden) {
      hidden = FloatBuffer(k, batch * cfg.projector_hidden);
      z = FloatBuffer(k, batch * cfg.encoder_dim());
    }
    logits = FloatBuffer(k, batch * cfg.classes);
  }
};

// Forward pass of n rows already in a.h[0] (p: parameters in kernel memory); returns the classifier input.
const float* forward(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& p, size_t n,
                     Activations& a) {
  const size_t L = cfg.layers();
  for (size_t l = 0; l < L; ++l) {
    const size_t in = cfg.widths[l], out = cfg.widths[l + 1], q = cfg.layer_param(l);
    if (cfg.layer_norm) {
      float* pre = a.pre[l + 1].data();
      k.sgemm(false, true, n, out, in, a.h[l].data(), p[q], 0.0f, pre);
      k.bias_activation(pre, p[q + 1], n, out, false);
      k.layer_norm_forward(pre, p[q + 2], p[q + 3], n, out, true, a.h[l + 1].data(), a.mean[l + 1].data(),
                           a.rstd[l + 1].data());
    } else {
      k.sgemm(false, true, n, out, in, a.h[l].data(), p[q], 0.0f, a.h[l + 1].data());
      k.bias_activation(a.h[l + 1].data(), p[q + 1], n, out, true);
    }
  }
  const size_t d = cfg.encoder_dim(), qc = cfg.classifier_param();
  const float* features = a.h[L].data();
  if (cfg.projector_hidden) {
    k.etf_projector_forward(features, n, d, cfg.projector_hidden, a.hidden.data(), a.z.data());
    features = a.z.data();
  }
  k.sgemm(false, true, n, cfg.classes, d, features, p[qc], 0.0f, a.logits.data());
  k.bias_activation(a.logits.data(), p[qc + 1], n, cfg.classes, false);
  return features;
}

size_t widest_layer(const MlpConfig& cfg) {
  size_t w = 0;
  for (size_t l = 1; l < cfg.widths.size(); ++l) w = std::max(w, cfg.widths[l]);
  return w;
}

// Workspace for gradients(), sized for batches of up to `batch` rows; the batch's input rows go in a.h[0].
struct BatchWorkspace {
  Activations a;
  FloatBuffer dlogits, dz, de_ent, dpre;  // dpre: dL/d(Linear output) of a LayerNorm layer, one layer at a time
  std::vector<FloatBuffer> dh;
  BatchWorkspace(TrainKernels& k, const MlpConfig& cfg, size_t batch)
      : a(k, cfg, batch),
        dlogits(k, batch * cfg.classes),
        dz(k, batch * cfg.encoder_dim()),
        de_ent(k, batch * cfg.encoder_dim()),
        dpre(k, cfg.layer_norm ? batch * widest_layer(cfg) : 0) {
    for (size_t w : cfg.widths) dh.emplace_back(k, batch * w);
  }
};

// Loss of the n rows in w.a.h[0] with labels y, and every parameter's gradient (all in kernel memory).
BatchLoss gradients(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& p, const int32_t* y,
                    size_t n, double alpha, double label_smoothing, const std::vector<float*>& grads,
                    BatchWorkspace& w) {
  const size_t L = cfg.layers(), d = cfg.encoder_dim(), C = cfg.classes;
  Activations& a = w.a;
  const float* features = forward(k, cfg, p, n, a);

  BatchLoss loss;
  loss.ce = k.cross_entropy_ls(a.logits.data(), y, n, C, label_smoothing, w.dlogits.data(), &loss.correct);
  const bool with_entropy = alpha != 0 && n >= 2;  // a single row has no neighbour
  if (with_entropy) loss.entropy = k.nn_entropy(a.h[L].data(), n, d, alpha, w.de_ent.data());

  // Classifier: dW = dlogitsᵀ·features, db = Σ dlogits, d(features) = dlogits·W.
  const size_t qc = cfg.classifier_param();
  k.sgemm(true, false, C, d, n, w.dlogits.data(), features, 0.0f, grads[qc]);
  k.activation_backward(w.dlogits.data(), nullptr, n, C, false, grads[qc + 1]);
  float* d_features = cfg.projector_hidden ? w.dz.data() : w.dh[L].data();
  k.sgemm(false, false, n, d, C, w.dlogits.data(), p[qc], 0.0f, d_features);
  if (cfg.projector_hidden) {
    k.etf_projector_backward(a.hidden.data(), a.z.data(), w.dz.data(), n, d, cfg.projector_hidden, w.dh[L].data());
  }
  if (with_entropy) k.add(w.dh[L].data(), w.de_ent.data(), n * d);
  for (size_t l = L; l-- > 0;) {
    const size_t li = cfg.widths[l], lo = cfg.widths[l + 1], q = cfg.layer_param(l);
    // dlin: dL/d(the layer's Linear output), through the ReLU (and the LayerNorm).
    float* dlin = w.dh[l + 1].data();
    if (cfg.layer_norm) {
      dlin = w.dpre.data();
      k.layer_norm_backward(a.pre[l + 1].data(), a.mean[l + 1].data(), a.rstd[l + 1].data(), p[q + 2],
                            a.h[l + 1].data(), w.dh[l + 1].data(), n, lo, true, dlin, grads[q + 2], grads[q + 3]);
      k.activation_backward(dlin, nullptr, n, lo, false, grads[q + 1]);
    } else {
      k.activation_backward(dlin, a.h[l + 1].data(), n, lo, true, grads[q + 1]);
    }
    k.sgemm(true, false, lo, li, n, dlin, a.h[l].data(), 0.0f, grads[q]);
    if (l > 0) k.sgemm(false, false, n, li, lo, dlin, p[q], 0.0f, w.dh[l].data());
  }
  return loss;
}

// Copies every tensor back to the caller's arrays, all or nothing: each is downloaded to a staging copy first, so a
// failed download leaves every caller array as it was.
void download_all(const std::vector<const std::vector<FloatBuffer>*>& from,
                  const std::vector<const std::vector<float*>*>& to) {
  std::vector<std::vector<float>> staged;
  for (const std::vector<FloatBuffer>* group : from) {
    for (const FloatBuffer& b : *group) b.download(staged.emplace_back(b.size()).data(), b.size());
  }
  auto next = staged.begin();
  for (const std::vector<float*>* group : to) {
    for (float* dst : *group) {
      std::copy(next->begin(), next->end(), dst);
      ++next;
    }
  }
}

}  // namespace

std::vector<size_t> MlpConfig::parameter_sizes() const {
  std::vector<size_t> sizes;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    sizes.push_back(widths[l + 1] * widths[l]);
    sizes.push_back(widths[l + 1]);
    if (layer_norm) sizes.insert(sizes.end(), {widths[l + 1], widths[l + 1]});
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

BatchLoss batch_gradients(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& params,
                          const float* x, const int32_t* y, size_t n, double alpha, double label_smoothing,
                          const std::vector<float*>& grads) {
  const std::vector<size_t> sizes = cfg.parameter_sizes();
  const std::vector<FloatBuffer> p = tensors(k, sizes, params.data());
  std::vector<FloatBuffer> g = tensors(k, sizes);
  BatchWorkspace w(k, cfg, n);
  w.a.h[0].upload(x, n * cfg.widths[0]);
  IntBuffer labels(k, n);
  labels.upload(y, n);
  std::vector<float*> gp;
  for (FloatBuffer& b : g) gp.push_back(b.data());
  const BatchLoss loss = gradients(k, cfg, pointers(p), labels.data(), n, alpha, label_smoothing, gp, w);
  for (size_t q = 0; q < sizes.size(); ++q) g[q].download(grads[q], sizes[q]);
  return loss;
}

// A read-only host array in kernel memory: used in place where kernel memory is host memory (the CPU: no second copy
// of a large dataset), else uploaded into `copy`.
namespace {
template <class T>
const T* readable(TrainKernels& k, const T* host, size_t n, KernelBuffer<T>& copy) {
  if (k.kernel_memory_is_host()) return host;
  copy = KernelBuffer<T>(k, n);
  copy.upload(host, n);
  return copy.data();
}
}  // namespace

EpochResult train_epoch(TrainKernels& k, const MlpConfig& cfg, const MlpTensors& t, const EpochOptions& o,
                        const RunContext& context) {
  const size_t in = cfg.widths[0];
  const size_t B = std::max<size_t>(1, std::min(o.batch, o.rows));
  const std::vector<size_t> sizes = cfg.parameter_sizes();
  std::vector<FloatBuffer> params = tensors(k, sizes, t.params.data());
  std::vector<FloatBuffer> m = tensors(k, sizes, t.m.data()), v = tensors(k, sizes, t.v.data());
  std::vector<FloatBuffer> grads = tensors(k, sizes);
  FloatBuffer x_copy;
  IntBuffer y_copy, order_copy, yb(k, B);
  const float* x = readable(k, o.x, o.rows * in, x_copy);
  const int32_t* y = readable(k, o.y, o.rows, y_copy);
  const int32_t* order = readable(k, o.order, o.rows, order_copy);
  BatchWorkspace w(k, cfg, B);
  const std::vector<const float*> p = pointers(params);
  std::vector<float*> g;
  for (FloatBuffer& b : grads) g.push_back(b.data());

  EpochResult r;
  r.step = o.step;
  double correct = 0;
  for (size_t start = 0; start < o.rows; start += B) {
    context.throw_if_cancelled();
    const size_t n = std::min(B, o.rows - start);
    k.gather_rows(x, y, o.rows, in, order + start, n, w.a.h[0].data(), yb.data());
    const BatchLoss loss = gradients(k, cfg, p, yb.data(), n, o.alpha, o.label_smoothing, g, w);
    r.ce += loss.ce * double(n);
    r.entropy += loss.entropy * double(n);
    correct += double(loss.correct);
    ++r.step;
    for (size_t q = 0; q < sizes.size(); ++q) {
      k.adamw(params[q].data(), g[q], m[q].data(), v[q].data(), sizes[q], o.adamw, r.step);
    }
    context.progress(double(start + n) / double(o.rows));
  }
  download_all({&params, &m, &v}, {&t.params, &t.m, &t.v});
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

void forward_layer(TrainKernels& k, const MlpConfig& cfg, const std::vector<const float*>& params, const float* x,
                   size_t rows, size_t layer, float* out, const RunContext& context) {
  const size_t L = cfg.layers(), in = cfg.widths[0], width = layer_width(cfg, layer);
  if (width == 0) fail(ErrorCode::InvalidArgument, "layer", "an encoder layer, projector layer (with a projector) or logits", std::to_string(layer));
  const size_t block = 1024;
  const std::vector<FloatBuffer> p = tensors(k, cfg.parameter_sizes(), params.data());
  const std::vector<const float*> pp = pointers(p);
  Activations a(k, cfg, std::min(block, rows));
  const FloatBuffer& src = layer < L ? a.h[layer + 1] : layer == L ? a.hidden : layer == L + 1 ? a.z : a.logits;
  for (size_t start = 0; start < rows; start += block) {
    context.throw_if_cancelled();
    const size_t n = std::min(block, rows - start);
    a.h[0].upload(x + start * in, n * in);
    forward(k, cfg, pp, n, a);
    src.download(out + start * width, n * width);
    context.progress(double(start + n) / double(rows));
  }
}

}  // namespace ncod
