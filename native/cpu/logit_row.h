// Scores of one row of logits for the CPU kernels (the CUDA kernels mirror these bodies on the device).
// float64 arithmetic with max subtraction, so large logits never overflow exp().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>

#include "../core/backend.h"
#include "exp_sum.h"

namespace ncod::cpu {

// The Shannon entropy H of softmax(z·scale), m = max z, without cancellation. With u_c = (z_c − m)·scale, s = Σ e^u
// and w = Σ e^u·u <= 0, H = log s − w/s: two non-negative terms. s is 1 + r with r the sum over every logit but the
// first maximum, so log s = log1p(r) keeps its relative accuracy when one logit dominates (H → 0; 1 − p is never
// formed), and all-equal logits give r = C − 1, w = 0, H = log C exactly.
inline double softmax_entropy(const float* z, size_t C, float m, double scale) {
  const size_t top1 = static_cast<size_t>(std::find(z, z + C, m) - z);
  const ExpMoments left = exp_moments(z, top1, m, scale);
  const ExpMoments right = exp_moments(z + top1 + 1, C - top1 - 1, m, scale);
  const double r = left.sum + right.sum;
  return std::log1p(r) - (left.weighted + right.weighted) / (1 + r);  // the maximum's own term has u = 0
}

// scratch: at least C floats (GEN selects its top M there). A row holding NaN or ±inf scores NaN, which finite rows
// never do: the caller checks the scores instead of making a second pass over the logits.
inline double score_logit_row(const float* z, size_t C, const LogitScoreSpec& spec, float* scratch) {
  const RowMax row = row_max(z, C);
  if (!row.finite) return std::numeric_limits<double>::quiet_NaN();
  const double m = row.value;
  if (spec.kind == LogitScore::MaxLogit) return m;
  if (spec.kind == LogitScore::ArgmaxOffset || spec.kind == LogitScore::FdbdSum) {
    const size_t top1 = static_cast<size_t>(std::find(z, z + C, row.value) - z);  // the first maximum
    if (spec.kind == LogitScore::ArgmaxOffset) return m - spec.table[top1];
    if (C < 2) return 0.0;
    const double* inv_norm = spec.table + top1 * C;  // zero at top1
    double s = 0;
    for (size_t c = 0; c < C; ++c) s += (m - double(z[c])) * inv_norm[c];
    return s / double(C - 1);
  }
  if (spec.kind == LogitScore::Entropy) return -softmax_entropy(z, C, row.value, 1.0 / spec.temperature);
  // Energy: T·log Σ exp(z/T) = m + T·log Σ exp((z − m)/T).
  const double t = spec.kind == LogitScore::Energy ? spec.temperature : 1.0;
  const double sum = exp_sum(z, C, m, 1.0 / t);
  if (spec.kind == LogitScore::Energy) return m + t * std::log(sum);
  if (spec.kind == LogitScore::Msp) return 1.0 / sum;  // exp(m − m) / Σ
  // GEN (Liu et al. 2023): −Σ over the M largest probabilities of p^γ (1 − p)^γ, each term as
  // exp(γ·(log p + log(1 − p))) so that neither factor underflows or cancels. 1 − p is never formed by subtraction
  // from 1: for the first maximum it is (Σ over the other logits)/Σ, summed from the second largest logit, and every
  // other p is at most ½, where log1p(−p) is exact to a few ulps. The sum needs the top-M set, not its order.
  const double log_sum = std::log(sum);
  const size_t M = spec.top;
  std::copy(z, z + C, scratch);
  std::iter_swap(scratch, std::find(scratch, scratch + C, row.value));  // the first maximum to the front
  double g = 0;
  if (C > 1) {
    const double m2 = row_max(scratch + 1, C - 1).value;
    const double log_p_top = -log_sum;
    const double log_rest_top = (m2 - m) + std::log(exp_sum(scratch + 1, C - 1, m2, 1.0)) - log_sum;  // log(1 − p)
    g += std::exp(spec.gamma * (log_p_top + log_rest_top));
    if (M > 1 && M < C) std::nth_element(scratch + 1, scratch + (M - 1), scratch + C, std::greater<float>());
    for (size_t c = 1; c < M; ++c) {
      const double log_p = (double(scratch[c]) - m) - log_sum;
      g += std::exp(spec.gamma * (log_p + std::log1p(-std::exp(log_p))));
    }
  }  // with one class, 1 − p = 0 and the only term is 0
  return -g;
}

}  // namespace ncod::cpu
