// The two passes of the log-sum-exp scores over one row of float32 logits, vectorised: the row maximum (with a
// finiteness check, so the scores need no separate pass over the input) and Σ exp in float64.
// An AVX-512 body is chosen at load time where the CPU has it; the portable body runs elsewhere and on the row
// tails, so rows shorter than a vector test it everywhere.
#pragma once

#include <cstddef>

namespace ncod::cpu {

struct RowMax {
  float value;  // the largest element (meaningless when !finite)
  bool finite;  // no NaN or ±inf in the row
};
RowMax row_max(const float* z, size_t n);

// Σ_c exp((z_c − m)·scale) for m >= every z_c and scale > 0, each term in float64 (relative error < 2e-13). Terms
// below exp(−708) count as exp(−708): at most 1e-307 each, beside the term of the maximum, 1.
double exp_sum(const float* z, size_t n, double m, double scale);

// Σ e^u and Σ e^u·u over u_c = (z_c − m)·scale (same conditions and clamp as exp_sum: a term below exp(−708) counts
// as exp(−708)·(−708)), for the entropy score. Both sums are in float64; `weighted` is <= 0, so adding it to a
// positive quantity never cancels.
struct ExpMoments {
  double sum;
  double weighted;
};
ExpMoments exp_moments(const float* z, size_t n, double m, double scale);

}  // namespace ncod::cpu
