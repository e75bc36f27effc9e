// CPU kernels of the OOD detectors: OpenMP over row blocks, single-threaded BLAS inside each block (see
// cpu_backend.cpp for why BLAS never runs its own threads). Every output row is written by exactly one thread,
// so results do not depend on the thread count.
#include "detector_kernels.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "logit_row.h"
#include "parallel.h"

namespace ncod::cpu {

namespace {

// Rows per block such that a block of rows × cols elements of `elem` bytes takes about `bytes`.
size_t block_rows(size_t cols, size_t elem, size_t bytes) {
  return std::clamp<size_t>(bytes / (std::max<size_t>(cols, 1) * elem), 16, 4096);
}

}  // namespace

void score_logits(const float* logits, size_t rows, size_t C, const LogitScoreSpec& spec, double* out) {
  const size_t block = 256;
  const size_t blocks = (rows + block - 1) / block;
  const int threads = threads_for(rows * C, blocks);
  // Per-thread scratch is allocated here, before the region: a failed allocation inside an OpenMP region would end
  // the process (std::terminate) instead of reaching the caller as ERR_OUT_OF_MEMORY.
  std::vector<std::vector<float>> scratches(static_cast<size_t>(threads), std::vector<float>(C));
#pragma omp parallel num_threads(threads)
  {
    std::vector<float>& scratch = scratches[static_cast<size_t>(omp_get_thread_num())];
    // Blocks handed out as threads get free: a thread slowed by another process does not hold up the chunk.
#pragma omp for schedule(dynamic, 1)
    for (size_t b = 0; b < blocks; ++b) {
      for (size_t i = b * block; i < std::min(rows, (b + 1) * block); ++i)
        out[i] = score_logit_row(logits + i * C, C, spec, scratch.data());
    }
  }
}

void linear_scores(const float* x, size_t rows, size_t d, const LinearHead& head, const LogitScoreSpec& spec,
                   double* out) {
  const size_t C = head.classes;
  const size_t block = block_rows(std::max(C, d), sizeof(float), size_t(1) << 20);  // the product block stays in cache
  const size_t blocks = (rows + block - 1) / block;
  const int threads = threads_for(rows * C * d / 16 + 1, blocks);
  const bool clip = std::isfinite(head.clip);
  struct Scratch {
    std::vector<float> clipped, z, scratch;
  };
  std::vector<Scratch> scratches;  // before the region, as in score_logits
  scratches.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    scratches.push_back({std::vector<float>(clip ? block * d : 0), std::vector<float>(block * C), std::vector<float>(C)});
  }
#pragma omp parallel num_threads(threads)
  {
    Scratch& mine = scratches[static_cast<size_t>(omp_get_thread_num())];
    std::vector<float>&clipped = mine.clipped, &z = mine.z, &scratch = mine.scratch;
#pragma omp for schedule(static)
    for (size_t b = 0; b < blocks; ++b) {
      const size_t start = b * block, n = std::min(block, rows - start);
      const float* xb = x + start * d;
      if (clip) {  // ReAct: features clipped from above before the head
        for (size_t k = 0; k < n * d; ++k) clipped[k] = std::min(xb[k], head.clip);
        xb = clipped.data();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(C), int(d), 1.0f, xb, int(d), head.weights,
                  int(d), 0.0f, z.data(), int(C));
      for (size_t i = 0; i < n; ++i) {
        float* zi = z.data() + i * C;
        if (head.bias) for (size_t c = 0; c < C; ++c) zi[c] += head.bias[c];
        out[start + i] = score_logit_row(zi, C, spec, scratch.data());
      }
    }
  }
}

void min_whitened_sq_distances(const float* x, size_t rows, size_t d, const WhitenedCentres& w, double* out) {
  const size_t p = w.dims, C = w.count;
  std::vector<double> centre_sq(C);
  for (size_t c = 0; c < C; ++c) {
    double s = 0;
    for (size_t j = 0; j < p; ++j) s += w.centres[c * p + j] * w.centres[c * p + j];
    centre_sq[c] = s;
  }
  // Large blocks: each GEMM call packs all of L (p×d) again, which costs as much as ~100 rows of product.
  const size_t block = block_rows(std::max({d, p, C}), sizeof(double), size_t(4) << 20);
  const size_t blocks = (rows + block - 1) / block;
  const int threads = threads_for(rows * p * d / 16 + 1, blocks);
  struct Scratch {
    std::vector<double> xs, y, g;
  };
  std::vector<Scratch> scratches;  // before the region, as in score_logits
  scratches.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    scratches.push_back({std::vector<double>(block * d), std::vector<double>(w.upper_triangular ? 0 : block * p),
                         std::vector<double>(block * C)});
  }
#pragma omp parallel num_threads(threads)
  {
    Scratch& mine = scratches[static_cast<size_t>(omp_get_thread_num())];
    std::vector<double>&xs = mine.xs, &y = mine.y, &g = mine.g;
#pragma omp for schedule(static)
    for (size_t b = 0; b < blocks; ++b) {
      const size_t start = b * block, n = std::min(block, rows - start);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < d; ++j) xs[i * d + j] = double(x[(start + i) * d + j]) - w.shift[j];
      // Y = (X − shift) Lᵀ, then G = Y Mᵀ: ‖y − m_c‖² = ‖y‖² − 2 y·m_c + ‖m_c‖², all in float64.
      if (w.upper_triangular) {  // in place, half the work of a GEMM
        cblas_dtrmm(CblasRowMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, int(n), int(d), 1.0, w.whitening,
                    int(d), xs.data(), int(d));
      } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(p), int(d), 1.0, xs.data(), int(d),
                    w.whitening, int(d), 0.0, y.data(), int(p));
      }
      const double* yb = w.upper_triangular ? xs.data() : y.data();
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(C), int(p), 1.0, yb, int(p), w.centres, int(p),
                  0.0, g.data(), int(C));
      for (size_t i = 0; i < n; ++i) {
        double yy = 0;
#pragma omp simd reduction(+ : yy)
        for (size_t j = 0; j < p; ++j) yy += yb[i * p + j] * yb[i * p + j];
        double best = std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < C; ++c) best = std::min(best, yy - 2 * g[i * C + c] + centre_sq[c]);
        out[start + i] = std::max(best, 0.0);  // rounding can push an exact zero slightly below
      }
    }
  }
}

}  // namespace ncod::cpu
