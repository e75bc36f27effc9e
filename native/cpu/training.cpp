// CPU implementations of core/training.h. Per-row work in float64; the nearest-neighbour search uses one
// float64 Gram product, so the neighbour choice matches a float64 reference except at exact ties.
#include "../core/training.h"

#include <cblas.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../core/train_math.h"

namespace ncod {

namespace {

using train_math::etf_element;
using train_math::etf_scale;
using train_math::kNormEps;

double sum(const float* v, size_t n) {
  double s = 0;
  for (size_t k = 0; k < n; ++k) s += v[k];
  return s;
}

// dL/dv of v/max(‖v‖, ε) given dL/dû and û (the normalised v) and ‖v‖.
void normalize_backward(const double* u_hat, const double* grad_hat, double norm, size_t n, double* grad) {
  double dot = 0;
  for (size_t k = 0; k < n; ++k) dot += u_hat[k] * grad_hat[k];
  for (size_t k = 0; k < n; ++k) grad[k] = train_math::normalize_backward_element(u_hat[k], grad_hat[k], norm, dot);
}

}  // namespace

void etf_apply(const float* v, size_t n, size_t m, size_t c, float* y) {
  const double s = etf_scale(c), mean = sum(v, n) / double(c);
  for (size_t i = 0; i < m; ++i) y[i] = etf_element(s, i < n ? double(v[i]) : 0.0, mean);
}

void etf_apply_transpose(const float* g_out, size_t m, size_t n, size_t c, float* g_in) {
  const double s = etf_scale(c), mean = sum(g_out, m) / double(c);
  for (size_t j = 0; j < n; ++j) g_in[j] = etf_element(s, j < m ? double(g_out[j]) : 0.0, mean);
}

void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z) {
  std::vector<float> u(d);
  for (size_t r = 0; r < B; ++r) {
    float* hr = hidden + r * h;
    etf_apply(e + r * d, d, h, d, hr);
    for (size_t k = 0; k < h; ++k) hr[k] = hr[k] > 0 ? hr[k] : 0.0f;
    etf_apply(hr, h, d, d, u.data());
    double norm = 0;
    for (size_t k = 0; k < d; ++k) norm += double(u[k]) * u[k];
    norm = std::max(std::sqrt(norm), kNormEps);
    for (size_t k = 0; k < d; ++k) z[r * d + k] = float(u[k] / norm);
  }
}

void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d, size_t h,
                            float* de) {
  std::vector<float> u(d), du(d), dh(h);
  std::vector<double> z64(d), dz64(d), du64(d);
  for (size_t r = 0; r < B; ++r) {
    const float* hr = hidden + r * h;
    etf_apply(hr, h, d, d, u.data());  // recompute the pre-normalisation output: cheaper than storing it
    double norm = 0;
    for (size_t k = 0; k < d; ++k) norm += double(u[k]) * u[k];
    norm = std::sqrt(norm);
    for (size_t k = 0; k < d; ++k) {
      z64[k] = z[r * d + k];
      dz64[k] = dz[r * d + k];
    }
    normalize_backward(z64.data(), dz64.data(), norm, d, du64.data());
    for (size_t k = 0; k < d; ++k) du[k] = float(du64[k]);
    etf_apply_transpose(du.data(), d, h, d, dh.data());
    for (size_t k = 0; k < h; ++k) dh[k] = hr[k] > 0 ? dh[k] : 0.0f;
    etf_apply_transpose(dh.data(), h, d, d, de + r * d);
  }
}

double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps, float* dlogits,
                        size_t* correct) {
  double total = 0;
  size_t hits = 0;
  const double off = eps / double(K), on = 1.0 - eps + off;
  for (size_t r = 0; r < B; ++r) {
    const float* z = logits + r * K;
    double max = -std::numeric_limits<double>::infinity();
    size_t top = 0;  // the first maximum
    for (size_t c = 0; c < K; ++c) {
      max = std::max(max, double(z[c]));
      if (z[c] > z[top]) top = c;
    }
    hits += top == size_t(y[r]);
    double sum_exp = 0, target_dot = 0;
    for (size_t c = 0; c < K; ++c) {
      sum_exp += std::exp(double(z[c]) - max);
      target_dot += (size_t(y[r]) == c ? on : off) * double(z[c]);
    }
    const double lse = max + std::log(sum_exp);
    total += lse - target_dot;
    for (size_t c = 0; c < K; ++c) {
      const double p = std::exp(double(z[c]) - lse);
      dlogits[r * K + c] = float((p - (size_t(y[r]) == c ? on : off)) / double(B));
    }
  }
  if (correct != nullptr) *correct = hits;
  return total / double(B);
}

double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de) {
  std::vector<double> hat(B * d), norms(B), gram(B * B), grad_hat(B * d, 0.0);
  for (size_t r = 0; r < B; ++r) {
    double n2 = 0;
    for (size_t k = 0; k < d; ++k) n2 += double(e[r * d + k]) * e[r * d + k];
    norms[r] = std::sqrt(n2);
    const double denom = std::max(norms[r], kNormEps);
    for (size_t k = 0; k < d; ++k) hat[r * d + k] = e[r * d + k] / denom;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(B), int(B), int(d), 1.0, hat.data(), int(d), hat.data(),
              int(d), 0.0, gram.data(), int(B));
  double loss = 0;
  std::vector<double> v(d);
  for (size_t i = 0; i < B; ++i) {
    size_t j = i == 0 ? 1 : 0;
    for (size_t k = 0; k < B; ++k) {
      if (k != i && gram[i * B + k] > gram[i * B + j]) j = k;  // first maximum wins
    }
    double dist2 = 0;
    for (size_t k = 0; k < d; ++k) {
      v[k] = hat[i * d + k] - hat[j * d + k] + train_math::kDistEps;
      dist2 += v[k] * v[k];
    }
    const double dist = std::sqrt(dist2);
    loss += train_math::nn_row_loss(dist);
    // d/dv of −log(‖v‖ + ε)/B = −v / (B ‖v‖ (‖v‖ + ε)); v depends on ê_i (+) and ê_j (−).
    const double coef = train_math::nn_row_coef(dist, B);
    for (size_t k = 0; k < d; ++k) {
      grad_hat[i * d + k] += coef * v[k];
      grad_hat[j * d + k] -= coef * v[k];
    }
  }
  std::vector<double> g(d);
  for (size_t r = 0; r < B; ++r) {
    normalize_backward(&hat[r * d], &grad_hat[r * d], norms[r], d, g.data());
    for (size_t k = 0; k < d; ++k) de[r * d + k] = float(scale * g[k]);
  }
  return loss / double(B);
}

}  // namespace ncod
