// The OOD detector glue (kernels in detector_kernels.cu): score_logits, and the fitted state kept on the device between
// calls (linear heads, whitened centres, KNN banks: uploaded once by *_create, scored per row batch, freed by *_free).
// Inputs were validated by the addon (core/detectors/); these check only what protects memory. Rows go to the device
// in blocks whose working set stays near kDetectorBlockBytes; scores come back per block.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <memory>
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

// Copies a host array into a new device buffer of its own (a handle's fitted state), on the plugin's stream.
void upload_owned(State& s, DeviceBuffer& dst, const void* src, size_t bytes, const char* what) {
  dst.reserve(bytes, what);
  copy_to_device(dst.as<void>(), src, bytes, s.stream, what);
}

// Creates a handle of type T with make(T&) filling it, waits for its uploads (the caller may free its host arrays as
// soon as create returns) and hands it over through out; on failure out stays NULL and the handle is freed.
template <class T, class Make>
void create_handle(State& s, T** out, const char* what, Make&& make) {
  if (out == nullptr) fail(std::string(what) + ": null out pointer");
  *out = nullptr;
  init_locked(s);
  auto handle = std::make_unique<T>();
  make(*handle);
  check(cudaStreamSynchronize(s.stream), what);
  *out = handle.release();
}

// Frees a handle under the lock, so that no call can be using the stream while its memory goes; NULL is ignored.
template <class T>
void free_handle(T* handle) noexcept {
  if (handle == nullptr) return;
  guarded_void([&](State& s) {
    if (s.ready) (void)cudaSetDevice(s.device);
    delete handle;
  });
}

}  // namespace
}  // namespace ncod::cuda

// The fitted state behind the ABI's opaque handles (ncod_cuda_abi.h): device copies owned for the handle's lifetime.
struct ncod_cuda_linear_head {
  ncod::cuda::DeviceBuffer weights, bias;  // classes×d float32; classes float32 when has_bias
  ncod::cuda::DeviceBuffer pair_table;     // classes² float64 (fDBD, kind 5) when has_pair_table
  size_t classes = 0, d = 0;
  float clip = 0;
  bool has_bias = false, has_pair_table = false;
};

struct ncod_cuda_whitened_centres {
  ncod::cuda::DeviceBuffer shift, whitening, centres, centre_sq;  // d; p×d; count×p; count (float64)
  size_t d = 0, p = 0, count = 0;
};

struct ncod_cuda_knn_bank {
  ncod::cuda::DeviceBuffer bank;  // rows×d float32
  size_t rows = 0, d = 0;
};

namespace ncod::cuda {
namespace {

void linear_head_create_locked(State& s, const float* w, const float* bias, size_t C, size_t d, float clip,
                               ncod_cuda_linear_head** out) {
  create_handle(s, out, "linear_head_create", [&](ncod_cuda_linear_head& h) {
    if (w == nullptr || C == 0 || d == 0) fail("linear_head_create: null weights or empty head");
    require_int(d, "dim");
    require_int(C, "classes");
    h.classes = C;
    h.d = d;
    h.clip = clip;
    h.has_bias = bias != nullptr;
    upload_owned(s, h.weights, w, checked_mul(C, d, "classes × d") * sizeof(float), "head weights");
    if (bias) upload_owned(s, h.bias, bias, C * sizeof(float), "head bias");
  });
}

void linear_head_keep_table_locked(State& s, ncod_cuda_linear_head* h, const double* table, size_t length) {
  if (h == nullptr || table == nullptr) fail("linear_head_keep_table: null pointer");
  if (length != checked_mul(h->classes, h->classes, "classes²")) fail("linear_head_keep_table: length is not classes²");
  init_locked(s);
  upload_owned(s, h->pair_table, table, length * sizeof(double), "fDBD table");
  check(cudaStreamSynchronize(s.stream), "linear_head_keep_table");
  h->has_pair_table = true;
}

// The table a head's score reads: its kept fDBD table for kind 5 without a spec table, else the spec's, uploaded.
const double* head_table(State& s, const ncod_cuda_linear_head* h, const ncod_cuda_logit_spec* spec) {
  if (spec->kind == 5 && spec->table == nullptr && h->has_pair_table) return h->pair_table.as<const double>();
  return upload_table(s, spec, h->classes);
}

void linear_head_scores_locked(State& s, const ncod_cuda_linear_head* h, const float* x, size_t rows,
                               const ncod_cuda_logit_spec* spec, double* out) {
  if (h == nullptr) fail("linear_head_scores: null head");
  if (rows == 0) return;
  if (x == nullptr || out == nullptr || spec == nullptr) fail("linear_head_scores: null pointer");
  const size_t d = h->d, C = h->classes;
  (void)checked_mul(rows, d, "rows × d");
  init_locked(s);
  const cudaStream_t st = s.stream;
  const size_t block = detector_block_rows(rows, (d + C) * sizeof(float) + sizeof(double));
  s.det_rows.reserve(block * d * sizeof(float), "features block");
  s.det_product.reserve(block * C * sizeof(float), "logits block");
  s.det_out.reserve(block * sizeof(double), "scores block");
  const double* table = head_table(s, h, spec);
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    if (h->clip < std::numeric_limits<float>::infinity())
      check(launch_clip(s.det_rows.as<float>(), n * d, h->clip, st), "launching the clip kernel");
    // Row-major Z (n×C) = X Wᵀ is column-major Zᵀ (C×n) = W_cmᵀ X_cm with W_cm = Wᵀ (d×C) and X_cm = Xᵀ (d×n).
    poison_bytes(s.det_product.as<void>(), n * C * sizeof(float), st, "poisoning the logits");
    s.blas.sgemm(Blas::Op::T, Blas::Op::N, int(C), int(n), int(d), h->weights.as<const float>(), int(d),
                 s.det_rows.as<const float>(), int(d), s.det_product.as<float>(), int(C));
    check(launch_score_logits(s.det_product.as<const float>(), n, C, h->has_bias ? h->bias.as<const float>() : nullptr,
                              spec->kind, spec->temperature, spec->gamma, spec->top, table, s.det_out.as<double>(), st),
          "launching the logit-score kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying scores to the host");
  }
  check(cudaStreamSynchronize(st), "running the linear-score kernels");
}

void whitened_centres_create_locked(State& s, const double* shift, const double* L, size_t p, size_t d,
                                    const double* centres, size_t count, ncod_cuda_whitened_centres** out) {
  create_handle(s, out, "whitened_centres_create", [&](ncod_cuda_whitened_centres& w) {
    if (shift == nullptr || L == nullptr || centres == nullptr || d == 0 || p == 0 || count == 0)
      fail("whitened_centres_create: null pointer or empty model");
    require_int(d, "dim");
    require_int(p, "whitened dims");
    require_int(count, "centres");
    const size_t pd = checked_mul(p, d, "p × d"), cp = checked_mul(count, p, "count × p");
    // ‖y − c‖² = ‖y‖² − 2 y·c + ‖c‖²: the centres' norms once, here.
    std::vector<double> centre_sq(count, 0.0);
    for (size_t c = 0; c < count; ++c)
      for (size_t j = 0; j < p; ++j) centre_sq[c] += centres[c * p + j] * centres[c * p + j];
    w.d = d;
    w.p = p;
    w.count = count;
    upload_owned(s, w.shift, shift, d * sizeof(double), "shift");
    upload_owned(s, w.whitening, L, pd * sizeof(double), "whitening");
    upload_owned(s, w.centres, centres, cp * sizeof(double), "whitened centres");
    upload_owned(s, w.centre_sq, centre_sq.data(), count * sizeof(double), "centre norms");
  });
}

void min_whitened_locked(State& s, const ncod_cuda_whitened_centres* w, const float* x, size_t rows, double* out) {
  if (w == nullptr) fail("whitened_centres_min_sq_distances: null model");
  if (rows == 0) return;
  if (x == nullptr || out == nullptr) fail("whitened_centres_min_sq_distances: null pointer");
  const size_t d = w->d, p = w->p, count = w->count;
  (void)checked_mul(rows, d, "rows × d");
  init_locked(s);
  const cudaStream_t st = s.stream;
  const size_t block = detector_block_rows(rows, d * (sizeof(float) + sizeof(double)) + (p + count + 1) * sizeof(double));
  s.det_rows.reserve(block * d * sizeof(float), "features block");
  s.det_xs.reserve(block * d * sizeof(double), "shifted block");
  s.det_y.reserve(block * p * sizeof(double), "whitened block");
  s.det_g.reserve(block * count * sizeof(double), "centre products");
  s.det_out.reserve(block * sizeof(double), "distances block");
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    check(launch_shift_rows(s.det_rows.as<const float>(), n, d, w->shift.as<const double>(), s.det_xs.as<double>(), st),
          "launching the shift kernel");
    // Y (n×p) = XS Lᵀ, then G (n×count) = Y Mᵀ; column-major as in linear_head_scores_locked.
    s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(p), int(n), int(d), w->whitening.as<const double>(), int(d),
                 s.det_xs.as<const double>(), int(d), s.det_y.as<double>(), int(p));
    s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(count), int(n), int(p), w->centres.as<const double>(), int(p),
                 s.det_y.as<const double>(), int(p), s.det_g.as<double>(), int(count));
    poison(s.det_out.as<double>(), n, st, "poisoning the distances");
    check(launch_min_distances(s.det_y.as<const double>(), n, p, s.det_g.as<const double>(), count,
                               w->centre_sq.as<const double>(), s.det_out.as<double>(), st),
          "launching the min-distance kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying distances to the host");
  }
  check(cudaStreamSynchronize(st), "running the Mahalanobis kernels");
}

void knn_bank_create_locked(State& s, const float* bank, size_t bank_rows, size_t d, ncod_cuda_knn_bank** out) {
  create_handle(s, out, "knn_bank_create", [&](ncod_cuda_knn_bank& b) {
    if (bank == nullptr || bank_rows == 0 || d == 0) fail("knn_bank_create: null pointer, no rows or d = 0");
    require_int(d, "dim");
    b.rows = bank_rows;
    b.d = d;
    upload_owned(s, b.bank, bank, checked_mul(bank_rows, d, "bank rows × d") * sizeof(float), "KNN fit set");
  });
}

void knn_locked(State& s, const ncod_cuda_knn_bank* b, const float* q, size_t rows, size_t k, double* out) {
  if (b == nullptr) fail("knn_bank_kth_similarity: null bank");
  if (rows == 0) return;
  if (q == nullptr || out == nullptr) fail("knn_bank_kth_similarity: null pointer");
  const size_t bank_rows = b->rows, d = b->d;
  if (k < 1 || k > bank_rows) fail("knn_bank_kth_similarity: k must lie in [1, bank_rows]");
  if (k > UINT32_MAX) fail("knn_bank_kth_similarity: k exceeds 2^32 − 1");
  (void)checked_mul(rows, d, "rows × d");
  init_locked(s);
  const cudaStream_t st = s.stream;
  // Queries in blocks, each with a k-entry heap per query; similarities in tiles of bank rows, so the full
  // queries × bank matrix never exists.
  const size_t qblock = detector_block_rows(rows, k * sizeof(float) + d * sizeof(float) + 16);
  const size_t tile = std::min({bank_rows, std::max<size_t>(1, kDetectorBlockBytes / (qblock * sizeof(float))),
                                static_cast<size_t>(INT_MAX)});
  s.det_rows.reserve(qblock * d * sizeof(float), "queries block");
  s.det_product.reserve(qblock * tile * sizeof(float), "similarity tile");
  s.knn_heaps.reserve(checked_mul(qblock, k, "queries × k") * sizeof(float), "top-k heaps");
  s.knn_sizes.reserve(qblock * sizeof(uint32_t), "heap sizes");
  s.det_out.reserve(qblock * sizeof(double), "scores block");
  for (size_t start = 0; start < rows; start += qblock) {
    const size_t n = std::min(qblock, rows - start);
    copy_to_device(s.det_rows.as<void>(), q + start * d, n * d * sizeof(float), st, "copying queries to the device");
    check(cudaMemsetAsync(s.knn_sizes.as<void>(), 0, n * sizeof(uint32_t), st), "cudaMemsetAsync(heap sizes)");
    for (size_t t0 = 0; t0 < bank_rows; t0 += tile) {
      const size_t m = std::min(tile, bank_rows - t0);
      // Row-major S (n×m) = Q Bᵀ: column-major Sᵀ (m×n) = B_cmᵀ Q_cm.
      s.blas.sgemm(Blas::Op::T, Blas::Op::N, int(m), int(n), int(d), b->bank.as<const float>() + t0 * d, int(d),
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

int ncod_cuda_linear_head_create(const float* weights, const float* bias, size_t classes, size_t d, float clip,
                                 ncod_cuda_linear_head** out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ncod::cuda::linear_head_create_locked(s, weights, bias, classes, d, clip, out);
  });
}

int ncod_cuda_linear_head_scores(ncod_cuda_linear_head* head, const float* x, size_t rows,
                                 const ncod_cuda_logit_spec* spec, double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::linear_head_scores_locked(s, head, x, rows, spec, out); });
}

int ncod_cuda_linear_head_keep_table(ncod_cuda_linear_head* head, const double* table, size_t length, char* err,
                                     size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::linear_head_keep_table_locked(s, head, table, length); });
}

void ncod_cuda_linear_head_free(ncod_cuda_linear_head* head) { ncod::cuda::free_handle(head); }

int ncod_cuda_whitened_centres_create(const double* shift, const double* whitening, size_t p, size_t d,
                                      const double* centres, size_t count, ncod_cuda_whitened_centres** out, char* err,
                                      size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ncod::cuda::whitened_centres_create_locked(s, shift, whitening, p, d, centres, count, out);
  });
}

int ncod_cuda_whitened_centres_min_sq_distances(ncod_cuda_whitened_centres* centres, const float* x, size_t rows,
                                                double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::min_whitened_locked(s, centres, x, rows, out); });
}

void ncod_cuda_whitened_centres_free(ncod_cuda_whitened_centres* centres) { ncod::cuda::free_handle(centres); }

int ncod_cuda_knn_bank_create(const float* bank, size_t bank_rows, size_t d, ncod_cuda_knn_bank** out, char* err,
                              size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::knn_bank_create_locked(s, bank, bank_rows, d, out); });
}

int ncod_cuda_knn_bank_kth_similarity(ncod_cuda_knn_bank* bank, const float* queries, size_t rows, size_t k,
                                      double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::knn_locked(s, bank, queries, rows, k, out); });
}

void ncod_cuda_knn_bank_free(ncod_cuda_knn_bank* bank) { ncod::cuda::free_handle(bank); }

}  // extern "C"
