// The CPU backend: OpenMP loops for the reductions, OpenBLAS for the matrix products.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "../core/backend.h"

namespace ncod {

namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr size_t kParallelMinElements = size_t(1) << 16;
// Rows centred at a time (float64): large enough for BLAS efficiency, small enough for cache.
constexpr size_t kCentredBlockBytes = size_t(8) << 20;

// The loop is bandwidth-bound only when the float→double adds are wide: an AVX2 clone is picked at load
// time on CPUs that have it, while the default clone keeps prebuilt binaries portable.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void add_rows_to_class_sums(const LabelledRows& rows, size_t begin, size_t end, double* counts, double* sums) {
  const size_t d = rows.dim;
  for (size_t i = begin; i < end; ++i) {
    const size_t c = static_cast<size_t>(rows.y[i]);
    const float* x = rows.x + i * d;
    double* s = sums + c * d;
    counts[c] += 1.0;
    for (size_t j = 0; j < d; ++j) s[j] += x[j];
  }
}

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  void accumulate_class_sums(const LabelledRows& rows, size_t num_classes, double* counts,
                             double* sums) override {
    const size_t width = num_classes * (rows.dim + 1);  // sums then counts, per thread
    const int threads = std::min<size_t>(omp_get_max_threads(), std::max<size_t>(1, rows.rows / 64));
    if (threads <= 1 || rows.rows * rows.dim < kParallelMinElements) {
      add_rows_to_class_sums(rows, 0, rows.rows, counts, sums);
      return;
    }
    // Each thread owns a private float64 accumulator: no atomics, and the result does not depend on
    // scheduling, so a run is reproducible for a given thread count.
    std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
    {
      const size_t t = static_cast<size_t>(omp_get_thread_num());
      const size_t begin = rows.rows * t / threads;
      const size_t end = rows.rows * (t + 1) / threads;
      double* mine = partial.data() + t * width;
      add_rows_to_class_sums(rows, begin, end, mine + num_classes * rows.dim, mine);
    }
    const size_t sum_len = num_classes * rows.dim;
    for (int t = 0; t < threads; ++t) {
      const double* mine = partial.data() + static_cast<size_t>(t) * width;
      for (size_t k = 0; k < sum_len; ++k) sums[k] += mine[k];
      for (size_t c = 0; c < num_classes; ++c) counts[c] += mine[sum_len + c];
    }
  }

  void accumulate_centred(const LabelledRows& rows, size_t num_classes, const CentredRequest& request) override {
    const size_t d = rows.dim;
    const size_t p = request.basis_cols;
    const size_t block = std::max<size_t>(1, kCentredBlockBytes / (d * sizeof(double)));
    CentredBuffers buffers(std::min(block, rows.rows), d, p, request.scatter != nullptr);
    for (size_t start = 0; start < rows.rows; start += block) {
      const size_t count = std::min(block, rows.rows - start);
      const LabelledRows part{rows.x + start * d, rows.y + start, count, d};
      centre_rows(part, request.means, buffers.z.data());
      if (request.class_sq_norms) add_class_sq_norms(part, buffers.z.data(), num_classes, request.class_sq_norms);
      if (request.scatter) {
        // upper += Zᵀ Z (row-major, upper triangle only); mirrored once at the end.
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(d), int(count), 1.0, buffers.z.data(), int(d), 1.0,
                    buffers.upper.data(), int(d));
      }
      if (p > 0) project(part, request, buffers, start);
    }
    if (request.scatter) add_symmetric_from_upper(buffers.upper.data(), d, request.scatter);
  }

  void gram(const double* a, size_t m, const double* b, size_t n, size_t k, double* out) override {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.0, a, int(k), b, int(k), 0.0, out,
                int(n));
  }

 private:
  struct CentredBuffers {
    CentredBuffers(size_t rows, size_t d, size_t p, bool scatter)
        : z(rows * d), z32(p > 0 ? rows * d : 0), projections(rows * p), upper(scatter ? d * d : 0, 0.0) {}
    std::vector<double> z;            // centred rows, float64
    std::vector<float> z32;           // the same rows rounded to float32 for the projection GEMM
    std::vector<float> projections;   // rows × p
    std::vector<double> upper;        // scatter accumulator, upper triangle
  };

  static void centre_rows(const LabelledRows& rows, const double* means, double* z) {
    const size_t d = rows.dim;
#pragma omp parallel for schedule(static) if (rows.rows * d >= kParallelMinElements)
    for (size_t i = 0; i < rows.rows; ++i) {
      const float* x = rows.x + i * d;
      const double* mu = means + static_cast<size_t>(rows.y[i]) * d;
      double* zi = z + i * d;
      for (size_t j = 0; j < d; ++j) zi[j] = double(x[j]) - mu[j];
    }
  }

  static void add_class_sq_norms(const LabelledRows& rows, const double* z, size_t num_classes, double* out) {
    // Serial: O(rows·d) next to the O(rows·d·p) product, and the summation order stays fixed.
    (void)num_classes;
    const size_t d = rows.dim;
    for (size_t i = 0; i < rows.rows; ++i) {
      const double* zi = z + i * d;
      double s = 0;
      for (size_t j = 0; j < d; ++j) s += zi[j] * zi[j];
      out[rows.y[i]] += s;
    }
  }

  static void project(const LabelledRows& rows, const CentredRequest& request, CentredBuffers& buffers,
                      size_t row_offset) {
    const size_t d = rows.dim;
    const size_t p = request.basis_cols;
    const size_t n = rows.rows;
    // Centring happened in float64, so the float32 copy is accurate relative to ‖z‖ (no cancellation left).
    for (size_t k = 0; k < n * d; ++k) buffers.z32[k] = static_cast<float>(buffers.z[k]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(p), int(d), 1.0f, buffers.z32.data(), int(d),
                request.basis, int(p), 0.0f, buffers.projections.data(), int(p));
    const float* P = buffers.projections.data();
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < request.sq_cols; ++k) {
        const double v = P[i * p + k];
        request.projection_sq_sums[k] += v * v;
      }
    }
    argmax_blocks(rows, request, P, row_offset);
  }

  static void argmax_blocks(const LabelledRows& rows, const CentredRequest& request, const float* P, size_t row_offset) {
    const size_t p = request.basis_cols;
    for (const ArgmaxBlock& blk : request.argmax) {
      const size_t C = blk.classes;
      for (size_t i = 0; i < rows.rows; ++i) {
        const double* offsets = blk.table + static_cast<size_t>(rows.y[i]) * C;
        const float* scores = P + i * p + blk.offset;
        size_t best = 0;
        double best_score = -std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < C; ++c) {
          const double score = blk.scale * double(scores[c]) + offsets[c];
          if (score > best_score) {
            best_score = score;
            best = c;
          }
        }
        blk.out[row_offset + i] = static_cast<int32_t>(best);
      }
    }
  }

  static void add_symmetric_from_upper(const double* upper, size_t d, double* scatter) {
    for (size_t a = 0; a < d; ++a) {
      scatter[a * d + a] += upper[a * d + a];
      for (size_t b = a + 1; b < d; ++b) {
        scatter[a * d + b] += upper[a * d + b];
        scatter[b * d + a] += upper[a * d + b];
      }
    }
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace ncod
