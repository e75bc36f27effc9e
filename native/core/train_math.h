// Scalar formulas of the training kernels, compiled by the host compiler (native/cpu) and by nvcc (native/cuda), so
// both backends compute each element with the same expression. The loops around them are per backend.
// Plain C++: NCOD_HD marks the functions __host__ __device__ under nvcc and nothing otherwise.
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define NCOD_HD __host__ __device__
#else
#define NCOD_HD
#endif

namespace ncod::train_math {

constexpr double kNormEps = 1e-8;       // normalize(v) = v / max(‖v‖, 1e-8), as torch's F.normalize
constexpr double kDistEps = 1e-8;       // the paper's eps inside and outside the nearest-neighbour distance
constexpr double kLayerNormEps = 1e-5;  // torch.nn.LayerNorm's default

// s = √(c/(c−1)) of the ETF layer A = s·(I − 1/c).
NCOD_HD inline double etf_scale(size_t c) { return sqrt(double(c) / double(c - 1)); }

// One element of A v: s·(v_i − Σv/c), with v_i = 0 past the input's length and mean = Σv/c.
NCOD_HD inline float etf_element(double s, double v_i, double mean) { return float(s * (v_i - mean)); }

// One element of dL/dv for û = v/max(‖v‖, ε), given û_k, dL/dû_k, ‖v‖ and dot = Σ û·dL/dû.
NCOD_HD inline double normalize_backward_element(double u_hat, double grad_hat, double norm, double dot) {
  return norm <= kNormEps ? grad_hat / kNormEps : (grad_hat - u_hat * dot) / norm;
}

// −log(‖v‖ + ε)/B for one row of the nearest-neighbour entropy, and its coefficient: d/dv = coef·v.
NCOD_HD inline double nn_row_loss(double dist) { return -log(dist + kDistEps); }
NCOD_HD inline double nn_row_coef(double dist, size_t B) { return -1.0 / (double(B) * dist * (dist + kDistEps)); }

// dL/dY through an optional ReLU, from its output Y: zero where !(Y > 0).
NCOD_HD inline float relu_grad(float dy, float y, bool relu) { return relu && !(y > 0) ? 0.0f : dy; }

// LayerNorm over a row: rstd from the biased variance; x̂ from the saved (float) mean and rstd, so the forward and
// backward passes see the same x̂; the affine output; and one element of dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) where
// g = dL/dx̂ = γ·dL/dy.
NCOD_HD inline float ln_rstd(double var) { return float(1.0 / sqrt(var + kLayerNormEps)); }
NCOD_HD inline double ln_xhat(float x, float mean, float rstd) { return (double(x) - double(mean)) * double(rstd); }
NCOD_HD inline float ln_output(double xhat, float gamma, float beta) { return float(double(gamma) * xhat + double(beta)); }
NCOD_HD inline float ln_dx(float rstd, double g, double mean_g, double xhat, double mean_gx) {
  return float(double(rstd) * (g - mean_g - xhat * mean_gx));
}

// AdamW as torch.optim.AdamW: the per-step constants (host), then the update of one element.
struct AdamWStep {
  float decay, b1, b2, step_size, root_c2, eps;
};
inline AdamWStep adamw_step(double lr, double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  const double c1 = 1.0 - pow(beta1, double(step)), c2 = 1.0 - pow(beta2, double(step));
  return AdamWStep{float(1.0 - lr * weight_decay), float(beta1), float(beta2), float(lr / c1), float(sqrt(c2)),
                   float(eps)};
}
NCOD_HD inline void adamw_update(float& p, float g, float& m, float& v, const AdamWStep& s) {
  m = s.b1 * m + (1 - s.b1) * g;
  v = s.b2 * v + (1 - s.b2) * g * g;
  p = p * s.decay - s.step_size * m / (sqrtf(v) / s.root_c2 + s.eps);
}

}  // namespace ncod::train_math
