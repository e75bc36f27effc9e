// Scores of one row of logits, shared by the CPU kernels (the CUDA kernels mirror these bodies on the device).
// Everything in float64 with max subtraction, so large logits never overflow exp().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>

#include "backend.h"

namespace ncod {

// scratch: at least C doubles (the exponentials; GEN selects its top M there).
inline double score_logit_row(const float* z, size_t C, const LogitScoreSpec& spec, double* scratch) {
  double m = z[0];
  size_t top1 = 0;  // the first maximum
  for (size_t c = 1; c < C; ++c) {
    if (double(z[c]) > m) {
      m = z[c];
      top1 = c;
    }
  }
  if (spec.kind == LogitScore::MaxLogit) return m;
  if (spec.kind == LogitScore::ArgmaxOffset) return m - spec.table[top1];
  if (spec.kind == LogitScore::FdbdSum) {
    if (C < 2) return 0.0;
    const double* inv_norm = spec.table + top1 * C;  // zero at top1
    double s = 0;
    for (size_t c = 0; c < C; ++c) s += (m - double(z[c])) * inv_norm[c];
    return s / double(C - 1);
  }
  // Energy: T·log Σ exp(z/T) = m + T·log Σ exp((z − m)/T).
  const double t = spec.kind == LogitScore::Energy ? spec.temperature : 1.0;
  double sum = 0;
  for (size_t c = 0; c < C; ++c) sum += scratch[c] = std::exp((double(z[c]) - m) / t);
  if (spec.kind == LogitScore::Energy) return m + t * std::log(sum);
  if (spec.kind == LogitScore::Msp) return 1.0 / sum;  // exp(m − m) / Σ
  // GEN (Liu et al. 2023): −Σ over the M largest probabilities of p^γ (1 − p)^γ. The sum needs the top-M set, not
  // its order, so a selection suffices.
  const size_t M = spec.top;
  if (M < C) std::nth_element(scratch, scratch + (M - 1), scratch + C, std::greater<double>());
  double g = 0;
  for (size_t c = 0; c < M; ++c) {
    const double p = scratch[c] / sum;
    g += std::pow(p, spec.gamma) * std::pow(1.0 - p, spec.gamma);
  }
  return -g;
}

}  // namespace ncod
