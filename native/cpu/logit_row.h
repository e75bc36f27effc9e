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
  // Energy: T·log Σ exp(z/T) = m + T·log Σ exp((z − m)/T).
  const double t = spec.kind == LogitScore::Energy ? spec.temperature : 1.0;
  const double sum = exp_sum(z, C, m, 1.0 / t);
  if (spec.kind == LogitScore::Energy) return m + t * std::log(sum);
  if (spec.kind == LogitScore::Msp) return 1.0 / sum;  // exp(m − m) / Σ
  // GEN (Liu et al. 2023): −Σ over the M largest probabilities of p^γ (1 − p)^γ. The sum needs the top-M set, not
  // its order, so a selection of the M largest logits suffices; their few exponentials come from libm.
  const size_t M = spec.top;
  std::copy(z, z + C, scratch);
  if (M < C) std::nth_element(scratch, scratch + (M - 1), scratch + C, std::greater<float>());
  double g = 0;
  for (size_t c = 0; c < M; ++c) {
    const double p = std::exp(double(scratch[c]) - m) / sum;
    g += std::pow(p, spec.gamma) * std::pow(1.0 - p, spec.gamma);
  }
  return -g;
}

}  // namespace ncod::cpu
