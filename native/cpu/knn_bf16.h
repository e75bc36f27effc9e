// Approximate similarities for the exact KNN filter (knn_filter.h) from bfloat16 products (AVX512-BF16), four times
// the throughput of a float32 GEMM on CPUs that have it, with a rigorous bound on their error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/run_context.h"
#include "knn_filter.h"

namespace ncod::cpu {

// Whether this CPU has AVX512-BF16 (checked once, at load).
bool bf16_available();

// Bank rows rounded to bfloat16 (nearest even) and packed for the kernel: panels of 32 rows, within a panel the
// element pairs (2p, 2p + 1) of every row side by side.
struct Bf16Bank {
  Bf16Bank(const float* bank, size_t rows, size_t dim);

  size_t rows, dim, pairs, panels;
  std::vector<uint32_t> packed;  // panels × pairs × 32 pairs of bfloat16
  double max_residual = 0;       // max over rows of ‖x − bf16(x)‖
  double max_norm = 0;           // max over rows of ‖x‖ and ‖bf16(x)‖
};

// Rows of queries per kernel call: a query block should be a multiple.
constexpr size_t kBf16QueryRows = 12;

// Resets filters[i] (eps from the rounding bound) and offers it every bank row, for queries q (n×dim float32).
// Gives up (returns false) once the filters hold more than max_candidates rows in all: then the bfloat16 error is
// too coarse for these similarities. scratch: reused between calls. Throws ErrorCode::Aborted (checked every 16
// panels) once context's cancel flag is set.
bool bf16_offer_all(const Bf16Bank& bank, const float* q, size_t n, size_t k, size_t max_candidates,
                    KthFilter* filters, std::vector<uint32_t>& scratch, const RunContext& context);

}  // namespace ncod::cpu
