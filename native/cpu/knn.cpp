// Exact KNN on the CPU: approximate similarities of a whole query block against the bank feed one KthFilter per
// query (knn_filter.h), and each query's few surviving rows are recomputed in float64. The approximations come from
// the AVX512-BF16 kernel (knn_bf16.h) where the CPU has it, otherwise from float32 GEMM tiles. Either way the
// result is the k-th largest float64 dot product of the given rows, whatever the path or the thread count.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "detector_kernels.h"
#include "knn_bf16.h"
#include "knn_filter.h"
#include "parallel.h"

namespace ncod::cpu {

namespace {

// Below this dimension a float32 GEMM is cheap enough that packing for bfloat16 does not pay.
constexpr size_t kBf16MinDim = 64;
// Bank rows per float32 GEMM tile. With query blocks of up to kMaxBlockGroups·12 rows, 2048 keeps OpenBLAS near its
// large-matrix rate (about 82 GFLOP per core-second on Zen 3, against 70 for 384 × 1024 tiles).
constexpr size_t kTileRows = 2048;
constexpr size_t kMaxBlockGroups = 128;
// Fewer queries than this per block take one matrix-vector product each per tile: OpenBLAS's sgemm packs the bank
// tile for every call, which for one or two query rows costs more than the products (a served single row scored
// in ~40 ms against a 60 000 × 512 bank). The float32 error bound below holds for any summation order.
constexpr size_t kGemvMaxQueries = 3;

// First j in [from, n) with s[j] >= t, else n. Sixteen at a time, so the common case (none) is one vector compare.
size_t next_at_least(const float* s, size_t from, size_t n, float t) {
  size_t j = from;
  for (; j + 16 <= n; j += 16) {
    bool any = false;
#pragma omp simd reduction(|| : any)
    for (size_t l = 0; l < 16; ++l) any = any || s[j + l] >= t;
    if (!any) continue;
    for (size_t l = 0; l < 16; ++l) {
      if (s[j + l] >= t) return j + l;
    }
  }
  for (; j < n; ++j) {
    if (s[j] >= t) return j;
  }
  return n;
}

double max_row_norm(const float* x, size_t rows, size_t dim) {
  double best = 0;
  for (size_t i = 0; i < rows; ++i) best = std::max(best, dot_float64(x + i * dim, x + i * dim, dim));
  return std::sqrt(best);
}

// The float32 path: |s32 − q·x| <= γ_dim·Σ|q_j x_j| <= (dim + 2)·2^-24·‖q‖·‖x‖ for a GEMM's float32 sums.
void gemm_offer_all(const float* q, size_t n, const float* bank, size_t bank_rows, size_t dim, double bank_norm,
                    size_t k, KthFilter* filters, std::vector<float>& s, const RunContext& context) {
  for (size_t i = 0; i < n; ++i) {
    const double norm = std::sqrt(dot_float64(q + i * dim, q + i * dim, dim));
    const double bound = double(dim + 2) * 0x1p-24 * norm * bank_norm;
    filters[i].reset(k, static_cast<float>(bound * (1 + 0x1p-10) + 1e-6));  // margin as in knn_bf16.cpp
  }
  s.resize(n * kTileRows);
  for (size_t t0 = 0; t0 < bank_rows; t0 += kTileRows) {
    context.throw_if_cancelled();  // per tile: a block of queries against a large bank takes seconds
    const size_t m = std::min(kTileRows, bank_rows - t0);
    if (n < kGemvMaxQueries) {
      for (size_t i = 0; i < n; ++i)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, int(m), int(dim), 1.0f, bank + t0 * dim, int(dim), q + i * dim, 1,
                    0.0f, s.data() + i * m, 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(m), int(dim), 1.0f, q, int(dim),
                  bank + t0 * dim, int(dim), 0.0f, s.data(), int(m));
    }
    for (size_t i = 0; i < n; ++i) {
      const float* row = s.data() + i * m;
      KthFilter& f = filters[i];
      for (size_t j = next_at_least(row, 0, m, f.threshold()); j < m; j = next_at_least(row, j + 1, m, f.threshold()))
        f.offer(row[j], t0 + j);
    }
  }
}

// Per-thread state, allocated before the parallel loop.
struct Scratch {
  std::vector<KthFilter> filters;
  std::vector<uint32_t> packed;
  std::vector<float> products;
  std::vector<double> exact;
};

// What the kernel derives from the bank alone: its bfloat16 packing (where the CPU has AVX512-BF16 and dim is large
// enough) and the bound on its row norms. Built once per prepared bank, or once per call of knn_kth_similarity.
struct PackedBank {
  PackedBank(const float* bank, size_t rows, size_t dim) : bank(bank), rows(rows), dim(dim) {
    if (dim >= kBf16MinDim && bf16_available()) bf16.emplace(bank, rows, dim);
    max_norm = bf16 ? bf16->max_norm : max_row_norm(bank, rows, dim);
  }
  const float* bank;
  size_t rows, dim;
  std::optional<Bf16Bank> bf16;
  double max_norm = 0;
};

void kth_similarity(const PackedBank& pb, const float* q, size_t rows, size_t k, double* out, const RunContext& context) {
  const float* bank = pb.bank;
  const size_t bank_rows = pb.rows, d = pb.dim;
  const std::optional<Bf16Bank>& packed = pb.bf16;
  const double bank_norm = pb.max_norm;
  // Queries per block: many, so that the bank is streamed rarely, but the filters' buffers (about 10 floats per
  // unit of k and query) stay near 16 MiB per thread for a large k. Then as many blocks as it takes, a multiple
  // of the thread count, of equal size (in whole kernel groups).
  const size_t most = std::clamp<size_t>((size_t(16) << 20) / (k * 10 * sizeof(float)), 1, kMaxBlockGroups) * kBf16QueryRows;
  const size_t groups = (rows + kBf16QueryRows - 1) / kBf16QueryRows;
  const int threads = threads_for(rows * bank_rows * d / 16 + 1, groups);
  const size_t blocks = ((rows + most - 1) / most + threads - 1) / threads * threads;
  const size_t per_block = (groups + blocks - 1) / blocks * kBf16QueryRows;
  std::vector<Scratch> scratch(static_cast<size_t>(threads));
  for (Scratch& s : scratch) s.filters.resize(std::min(per_block, rows));

  parallel_for(blocks, threads, [&](size_t b, int thread) {
    Scratch& s = scratch[static_cast<size_t>(thread)];
    const size_t start = b * per_block;
    if (start >= rows) return;  // whole groups per block can leave the last blocks empty
    const size_t n = std::min(per_block, rows - start);
    const float* qb = q + start * d;
    // When the similarities lie closer together than the bfloat16 error (near-duplicate rows, nearly orthogonal
    // data), most rows would survive, each a float64 product: past 1/16 of the bank per query, float32 GEMM tiles
    // (a bound ~100 times tighter) redo the block.
    const size_t max_candidates = n * (bank_rows / 16 + 4 * k);
    // An abort throws out of either bank loop; parallel_for rethrows it once every thread has stopped.
    if (!packed || !bf16_offer_all(*packed, qb, n, k, max_candidates, s.filters.data(), s.packed, context)) {
      gemm_offer_all(qb, n, bank, bank_rows, d, bank_norm, k, s.filters.data(), s.products, context);
    }
    for (size_t i = 0; i < n; ++i) out[start + i] = s.filters[i].kth_exact(qb + i * d, bank, d, s.exact);
  });
}

class CpuPreparedBank final : public PreparedKnnBank {
 public:
  CpuPreparedBank(const float* bank, size_t rows, size_t dim) : packed_(bank, rows, dim) {}
  void kth_similarity(const float* queries, size_t rows, size_t k, double* out, const RunContext& context) override {
    cpu::kth_similarity(packed_, queries, rows, k, out, context);
  }

 private:
  PackedBank packed_;
};

}  // namespace

void knn_kth_similarity(const float* q, size_t rows, const float* bank, size_t bank_rows, size_t d, size_t k,
                        double* out, const RunContext& context) {
  kth_similarity(PackedBank(bank, bank_rows, d), q, rows, k, out, context);
}

std::unique_ptr<PreparedKnnBank> prepare_knn_bank(const float* bank, size_t rows, size_t dim) {
  return std::make_unique<CpuPreparedBank>(bank, rows, dim);
}

}  // namespace ncod::cpu
