// The OOD detector glue: score_logits, linear_scores, min_whitened_sq_distances and knn_kth_similarity (kernels in
// detector_kernels.cu). Inputs were validated by the addon (core/detectors.cpp); these check only what protects
// memory. Rows go to the device in blocks whose working set stays near kDetectorBlockBytes; scores come back per block.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "detector_kernels.cuh"
#include "entry_points.h"
#include "plugin_state.h"
#include "transfers.h"

namespace ncod::cuda {
namespace {

// Rows go to the device in blocks whose working set stays near kDetectorBlockBytes; scores come back per block.
constexpr size_t kDetectorBlockBytes = size_t{256} << 20;

size_t detector_block_rows(size_t rows, size_t bytes_per_row) {
  return std::min({rows, std::max<size_t>(1, kDetectorBlockBytes / std::max<size_t>(bytes_per_row, 1)),
                   static_cast<size_t>(INT_MAX)});
}

void require_int(size_t v, const char* what) {
  if (v > static_cast<size_t>(INT_MAX)) fail(std::string(what) + " exceeds the cuBLAS int limit");
}

// Uploads the spec's table (kinds 5 and 6) and returns its device copy, or nullptr for kinds without one.
const double* upload_table(State& s, const ncod_cuda_logit_spec* spec, size_t C) {
  if (spec->kind != 5 && spec->kind != 6) return nullptr;
  if (spec->table == nullptr) fail("logit spec: kinds 5 and 6 need a table");
  const size_t n = spec->kind == 5 ? checked_mul(C, C, "classes²") : C;
  s.det_table.reserve(n * sizeof(double), "logit-score table");
  copy_to_device(s.det_table.as<void>(), spec->table, n * sizeof(double), s.stream, "copying the score table");
  return s.det_table.as<const double>();
}

void score_logits_locked(State& s, const float* logits, size_t rows, size_t C, const ncod_cuda_logit_spec* spec,
                         double* out) {
  if (rows == 0) return;
  if (logits == nullptr || out == nullptr || spec == nullptr || C == 0) fail("score_logits: null pointer or no classes");
  (void)checked_mul(rows, C, "rows × classes");
  init_locked(s);
  const cudaStream_t st = s.stream;
  const size_t block = detector_block_rows(rows, C * sizeof(float) + sizeof(double));
  s.det_rows.reserve(block * C * sizeof(float), "logits block");
  s.det_out.reserve(block * sizeof(double), "scores block");
  const double* table = upload_table(s, spec, C);
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), logits + start * C, n * C * sizeof(float), st, "copying logits to the device");
    poison(s.det_out.as<double>(), n, st, "poisoning the scores");
    check(launch_score_logits(s.det_rows.as<const float>(), n, C, nullptr, spec->kind, spec->temperature,
                                          spec->gamma, spec->top, table, s.det_out.as<double>(), st),
          "launching the logit-score kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying scores to the host");
  }
  check(cudaStreamSynchronize(st), "running the logit-score kernel");
}

void linear_scores_locked(State& s, const float* x, size_t rows, size_t d, const float* w, const float* bias, size_t C,
                          float clip, const ncod_cuda_logit_spec* spec, double* out) {
  if (rows == 0) return;
  if (x == nullptr || w == nullptr || out == nullptr || spec == nullptr || C == 0 || d == 0)
    fail("linear_scores: null pointer or empty head");
  require_int(d, "dim");
  require_int(C, "classes");
  (void)checked_mul(rows, d, "rows × d");
  const size_t cd = checked_mul(C, d, "classes × d");
  init_locked(s);
  const cudaStream_t st = s.stream;
  const size_t block = detector_block_rows(rows, (d + C) * sizeof(float) + sizeof(double));
  s.det_head.reserve(cd * sizeof(float), "head weights");
  if (bias) s.det_bias.reserve(C * sizeof(float), "head bias");
  s.det_rows.reserve(block * d * sizeof(float), "features block");
  s.det_product.reserve(block * C * sizeof(float), "logits block");
  s.det_out.reserve(block * sizeof(double), "scores block");
  copy_to_device(s.det_head.as<void>(), w, cd * sizeof(float), st, "copying the head to the device");
  const double* table = upload_table(s, spec, C);
  if (bias) copy_to_device(s.det_bias.as<void>(), bias, C * sizeof(float), st, "copying the bias to the device");
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    if (clip < std::numeric_limits<float>::infinity())
      check(launch_clip(s.det_rows.as<float>(), n * d, clip, st), "launching the clip kernel");
    // Row-major Z (n×C) = X Wᵀ is column-major Zᵀ (C×n) = W_cmᵀ X_cm with W_cm = Wᵀ (d×C) and X_cm = Xᵀ (d×n).
    poison_bytes(s.det_product.as<void>(), n * C * sizeof(float), st, "poisoning the logits");
    s.blas.sgemm(Blas::Op::T, Blas::Op::N, int(C), int(n), int(d), s.det_head.as<const float>(), int(d),
                 s.det_rows.as<const float>(), int(d), s.det_product.as<float>(), int(C));
    check(launch_score_logits(s.det_product.as<const float>(), n, C, bias ? s.det_bias.as<const float>() : nullptr,
                                          spec->kind, spec->temperature, spec->gamma, spec->top, table, s.det_out.as<double>(), st),
          "launching the logit-score kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying scores to the host");
  }
  check(cudaStreamSynchronize(st), "running the linear-score kernels");
}

void min_whitened_locked(State& s, const float* x, size_t rows, size_t d, const double* shift, const double* L, size_t p,
                         const double* centres, size_t count, double* out) {
  if (rows == 0) return;
  if (x == nullptr || shift == nullptr || L == nullptr || centres == nullptr || out == nullptr || d == 0 || p == 0 ||
      count == 0)
    fail("min_whitened_sq_distances: null pointer or empty model");
  require_int(d, "dim");
  require_int(p, "whitened dims");
  require_int(count, "centres");
  const size_t pd = checked_mul(p, d, "p × d"), cp = checked_mul(count, p, "count × p");
  (void)checked_mul(rows, d, "rows × d");
  std::vector<double> centre_sq(count, 0.0);
  for (size_t c = 0; c < count; ++c)
    for (size_t j = 0; j < p; ++j) centre_sq[c] += centres[c * p + j] * centres[c * p + j];
  init_locked(s);
  const cudaStream_t st = s.stream;
  const size_t block = detector_block_rows(rows, d * (sizeof(float) + sizeof(double)) + (p + count + 1) * sizeof(double));
  s.det_shift.reserve(d * sizeof(double), "shift");
  s.det_whitening.reserve(pd * sizeof(double), "whitening");
  s.det_centres.reserve(cp * sizeof(double), "whitened centres");
  s.det_centre_sq.reserve(count * sizeof(double), "centre norms");
  s.det_rows.reserve(block * d * sizeof(float), "features block");
  s.det_xs.reserve(block * d * sizeof(double), "shifted block");
  s.det_y.reserve(block * p * sizeof(double), "whitened block");
  s.det_g.reserve(block * count * sizeof(double), "centre products");
  s.det_out.reserve(block * sizeof(double), "distances block");
  copy_to_device(s.det_shift.as<void>(), shift, d * sizeof(double), st, "copying the shift");
  copy_to_device(s.det_whitening.as<void>(), L, pd * sizeof(double), st, "copying the whitening");
  copy_to_device(s.det_centres.as<void>(), centres, cp * sizeof(double), st, "copying the centres");
  copy_to_device(s.det_centre_sq.as<void>(), centre_sq.data(), count * sizeof(double), st, "copying centre norms");
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    check(launch_shift_rows(s.det_rows.as<const float>(), n, d, s.det_shift.as<const double>(),
                                        s.det_xs.as<double>(), st),
          "launching the shift kernel");
    // Y (n×p) = XS Lᵀ, then G (n×count) = Y Mᵀ; column-major as in linear_scores_locked.
    s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(p), int(n), int(d), s.det_whitening.as<const double>(), int(d),
                 s.det_xs.as<const double>(), int(d), s.det_y.as<double>(), int(p));
    s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(count), int(n), int(p), s.det_centres.as<const double>(), int(p),
                 s.det_y.as<const double>(), int(p), s.det_g.as<double>(), int(count));
    poison(s.det_out.as<double>(), n, st, "poisoning the distances");
    check(launch_min_distances(s.det_y.as<const double>(), n, p, s.det_g.as<const double>(), count,
                                           s.det_centre_sq.as<const double>(), s.det_out.as<double>(), st),
          "launching the min-distance kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying distances to the host");
  }
  check(cudaStreamSynchronize(st), "running the Mahalanobis kernels");
}

void knn_locked(State& s, const float* q, size_t rows, const float* bank, size_t bank_rows, size_t d, size_t k,
                double* out) {
  if (rows == 0) return;
  if (q == nullptr || bank == nullptr || out == nullptr || d == 0) fail("knn_kth_similarity: null pointer or d = 0");
  if (k < 1 || k > bank_rows) fail("knn_kth_similarity: k must lie in [1, bank_rows]");
  if (k > UINT32_MAX) fail("knn_kth_similarity: k exceeds 2^32 − 1");
  require_int(d, "dim");
  const size_t bank_elems = checked_mul(bank_rows, d, "bank rows × d");
  (void)checked_mul(rows, d, "rows × d");
  init_locked(s);
  const cudaStream_t st = s.stream;
  // The whole (normalised) bank stays on the device; queries in blocks, each with a k-entry heap per query;
  // similarities in tiles of bank rows, so the full queries × bank matrix never exists.
  const size_t qblock = detector_block_rows(rows, k * sizeof(float) + d * sizeof(float) + 16);
  const size_t tile = std::min({bank_rows, std::max<size_t>(1, kDetectorBlockBytes / (qblock * sizeof(float))),
                                static_cast<size_t>(INT_MAX)});
  s.knn_bank.reserve(bank_elems * sizeof(float), "KNN fit set");
  s.det_rows.reserve(qblock * d * sizeof(float), "queries block");
  s.det_product.reserve(qblock * tile * sizeof(float), "similarity tile");
  s.knn_heaps.reserve(checked_mul(qblock, k, "queries × k") * sizeof(float), "top-k heaps");
  s.knn_sizes.reserve(qblock * sizeof(uint32_t), "heap sizes");
  s.det_out.reserve(qblock * sizeof(double), "scores block");
  copy_to_device(s.knn_bank.as<void>(), bank, bank_elems * sizeof(float), st, "copying the fit set to the device");
  for (size_t start = 0; start < rows; start += qblock) {
    const size_t n = std::min(qblock, rows - start);
    copy_to_device(s.det_rows.as<void>(), q + start * d, n * d * sizeof(float), st, "copying queries to the device");
    check(cudaMemsetAsync(s.knn_sizes.as<void>(), 0, n * sizeof(uint32_t), st), "cudaMemsetAsync(heap sizes)");
    for (size_t t0 = 0; t0 < bank_rows; t0 += tile) {
      const size_t m = std::min(tile, bank_rows - t0);
      // Row-major S (n×m) = Q Bᵀ: column-major Sᵀ (m×n) = B_cmᵀ Q_cm.
      s.blas.sgemm(Blas::Op::T, Blas::Op::N, int(m), int(n), int(d), s.knn_bank.as<const float>() + t0 * d, int(d),
                   s.det_rows.as<const float>(), int(d), s.det_product.as<float>(), int(m));
      check(launch_topk_update(s.det_product.as<const float>(), n, m, k, s.knn_heaps.as<float>(),
                                           s.knn_sizes.as<uint32_t>(), st),
            "launching the top-k kernel");
    }
    check(launch_topk_result(s.knn_heaps.as<const float>(), n, k, s.det_out.as<double>(), st),
          "launching the top-k result kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying KNN scores to the host");
  }
  check(cudaStreamSynchronize(st), "running the KNN kernels");
}

}  // namespace
}  // namespace ncod::cuda

using ncod::cuda::guarded;
using ncod::cuda::State;

extern "C" {

int ncod_cuda_score_logits(const float* logits, size_t rows, size_t classes, const ncod_cuda_logit_spec* spec,
                           double* out, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ncod::cuda::score_logits_locked(s, logits, rows, classes, spec, out); });
}

int ncod_cuda_linear_scores(const float* x, size_t rows, size_t d, const float* weights, const float* bias,
                            size_t classes, float clip, const ncod_cuda_logit_spec* spec, double* out, char* err,
                            size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ncod::cuda::linear_scores_locked(s, x, rows, d, weights, bias, classes, clip, spec, out);
  });
}

int ncod_cuda_min_whitened_sq_distances(const float* x, size_t rows, size_t d, const double* shift,
                                        const double* whitening, size_t p, const double* centres, size_t count,
                                        double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ncod::cuda::min_whitened_locked(s, x, rows, d, shift, whitening, p, centres, count, out);
  });
}

int ncod_cuda_knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows, size_t d,
                                 size_t k, double* out, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ncod::cuda::knn_locked(s, queries, rows, bank, bank_rows, d, k, out); });
}

}  // extern "C"
