// The CPU backend: OpenMP loops for the reductions, OpenBLAS for the matrix products.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "../core/backend.h"

namespace ncod {

namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr size_t kParallelMinElements = size_t(1) << 16;
// Rows centred at a time for one dsyrk call: large enough for BLAS efficiency, small enough for cache.
constexpr size_t kScatterBlockBytes = size_t(8) << 20;

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

  void accumulate_within_scatter(const LabelledRows& rows, size_t /*num_classes*/, const double* means,
                                 double* scatter) override {
    const size_t d = rows.dim;
    const size_t block = std::max<size_t>(1, kScatterBlockBytes / (d * sizeof(double)));
    std::vector<double> centred(std::min(block, rows.rows) * d);
    std::vector<double> upper(d * d, 0.0);
    for (size_t start = 0; start < rows.rows; start += block) {
      const size_t count = std::min(block, rows.rows - start);
      for (size_t i = 0; i < count; ++i) {
        const float* x = rows.x + (start + i) * d;
        const double* mu = means + static_cast<size_t>(rows.y[start + i]) * d;
        double* z = centred.data() + i * d;
        for (size_t j = 0; j < d; ++j) z[j] = double(x[j]) - mu[j];
      }
      // upper += Zᵀ Z (row-major, upper triangle only).
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(d), static_cast<int>(count), 1.0,
                  centred.data(), static_cast<int>(d), 1.0, upper.data(), static_cast<int>(d));
    }
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
