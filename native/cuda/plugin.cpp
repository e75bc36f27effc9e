// libncod_cuda.so: implementation of the plain-C plugin ABI (ncod_cuda_abi.h) on the CUDA runtime API.
//
// Built by the host C++ compiler against cuda_runtime.h only; kernels come from kernels.cu (nvcc) and cuBLAS is
// reached through blas.h (blas_cublas.cpp). The one exported symbol is ncod_cuda_get_api.
//
// Design:
//  - One process-wide State guarded by one mutex: every entry point locks it, so calls from any thread are
//    serialised. Each entry point re-selects the plugin's device because the current device is per host thread.
//  - Internal failures throw Failure / std::bad_alloc; the ABI wrappers catch everything, turn it into a non-zero
//    return plus a message in err, and never let an exception or abort cross the C boundary.
//  - Device buffers are kept between calls and only grow; every call ends with a stream synchronise before the host
//    reads results, and on failure the stream is drained before the lock is released, so no enqueued work can still
//    be using a buffer when the next call reallocates it.
#include "ncod_cuda_abi.h"

#include "blas.h"
#include "runtime.h"
#include "detector_kernels.cuh"
#include "kernels.cuh"
#include "train_ops.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Poison device outputs before the kernel / cuBLAS call that should overwrite them (float64 and float32 with NaN,
// int32 argmax outputs with -1), so an element that is never written shows up in the results.
// Default: on in debug builds (no NDEBUG), off in release; override with -DNCOD_POISON=0/1.
#ifndef NCOD_POISON
#ifdef NDEBUG
#define NCOD_POISON 0
#else
#define NCOD_POISON 1
#endif
#endif

#if defined(__GNUC__)
#define NCOD_CUDA_EXPORT __attribute__((visibility("default")))
#else
#define NCOD_CUDA_EXPORT
#endif

namespace {

constexpr bool kPoison = NCOD_POISON != 0;

// Rows are copied to the device in chunks. Class sums: 64 Mi float32 features (256 MiB) per chunk. Centred pass:
// the per-row working set (features, float64 z, float32 z and projections, argmax outputs) is kept within 512 MiB,
// i.e. at most ~170 MiB of features. A chunk is never less than one row. NCOD_CUDA_CHUNK_FLOATS exists only so
// tests can force many small chunks (centred chunks then use 8 × that many bytes).
#ifndef NCOD_CUDA_CHUNK_FLOATS
#define NCOD_CUDA_CHUNK_FLOATS (size_t{64} << 20)
#endif
constexpr size_t kClassSumsChunkFloats = NCOD_CUDA_CHUNK_FLOATS;
constexpr size_t kCentredChunkBytes = NCOD_CUDA_CHUNK_FLOATS * 8;

using ncod::cuda::check;
using ncod::cuda::checked_add;
using ncod::cuda::checked_mul;
using ncod::cuda::DeviceBuffer;
using ncod::cuda::fail;
using ncod::cuda::Failure;

struct State {
  std::mutex mu;
  bool ready = false;
  int device = 0;
  cudaStream_t stream = nullptr;
  ncod::cuda::Blas blas;
  std::string description;

  // Inputs and per-chunk work buffers.
  DeviceBuffer x, y, means, basis, tables, z, z32, proj, argmax_out;
  // Accumulated outputs (class sums; centred pass).
  DeviceBuffer counts, sums, scatter, norms, sq_sums;
  // gram.
  DeviceBuffer gram_a, gram_b, gram_out;
  // OOD detectors (detector_*_locked).
  DeviceBuffer det_rows, det_head, det_bias, det_product, det_out, det_shift, det_whitening, det_centres,
      det_centre_sq, det_xs, det_y, det_g, det_table, knn_bank, knn_heaps, knn_sizes;
  std::vector<double> host_stage;  // results copied back before they are added into the caller's arrays
  ncod::cuda::TrainScratch train;  // scratch of the training losses (train_ops.h)

  void free_buffers() noexcept {
    for (DeviceBuffer* b : {&x, &y, &means, &basis, &tables, &z, &z32, &proj, &argmax_out, &counts, &sums, &scatter,
                            &norms, &sq_sums, &gram_a, &gram_b, &gram_out, &det_rows, &det_head, &det_bias,
                            &det_product, &det_out, &det_shift, &det_whitening, &det_centres, &det_centre_sq,
                            &det_xs, &det_y, &det_g, &det_table, &knn_bank, &knn_heaps, &knn_sizes})
      b->release();
    std::vector<double>().swap(host_stage);
    train.release();
  }
};

// Deliberately leaked: a static State would run cudaFree/cublasDestroy from a static destructor at process exit,
// possibly after the CUDA driver has been torn down. Resources are released by shutdown().
State& state() {
  static State* s = new State();
  return *s;
}

void set_message(char* buf, size_t len, const char* msg) noexcept {
  if (buf == nullptr || len == 0) return;
  const size_t n = std::min(std::strlen(msg), len - 1);
  std::memcpy(buf, msg, n);
  buf[n] = '\0';
}

// Waits for everything enqueued on the stream and clears non-sticky errors; used after a failure so that no
// in-flight work still references a buffer the next call might free. Never throws.
void quiesce(State& s) noexcept {
  if (s.stream != nullptr) (void)cudaStreamSynchronize(s.stream);
  (void)cudaGetLastError();
}

void release_all(State& s) noexcept {
  if (!s.ready) return;  // buffers, stream and handle only exist after a successful init
  if (s.stream != nullptr) {
    (void)cudaSetDevice(s.device);
    (void)cudaStreamSynchronize(s.stream);
  }
  s.free_buffers();
  s.blas.destroy();
  if (s.stream != nullptr) (void)cudaStreamDestroy(s.stream);
  s.stream = nullptr;
  s.ready = false;
  s.description.clear();
  (void)cudaGetLastError();
}

// Runs f(state) under the lock; converts every exception into a non-zero return and a message.
template <class F>
int guarded(char* err, size_t errlen, F&& f) noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    try {
      f(s);
    } catch (...) {
      quiesce(s);
      throw;
    }
    set_message(err, errlen, "");
    return 0;
  } catch (const std::bad_alloc&) {
    set_message(err, errlen, "ncod CUDA plugin: out of memory (host allocation failed)");
  } catch (const std::exception& e) {
    set_message(err, errlen, e.what());
  } catch (...) {
    set_message(err, errlen, "ncod CUDA plugin: unknown C++ exception");
  }
  return 1;
}

// Idempotent: after the first success it only re-selects the device for the calling thread.
void init_locked(State& s) {
  if (s.ready) {
    check(cudaSetDevice(s.device), "cudaSetDevice");
    return;
  }

  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count <= 0)) {
    (void)cudaGetLastError();
    fail("no CUDA device");
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail(std::string("no CUDA driver: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
  }

  const int dev = 0;  // CUDA_VISIBLE_DEVICES picks which physical GPU this is
  check(cudaSetDevice(dev), "cudaSetDevice(0)");
  check(cudaFree(nullptr), "creating the CUDA context");  // forces context creation so failures surface here

  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
  prop.name[sizeof(prop.name) - 1] = '\0';
  char desc[384];
  std::snprintf(desc, sizeof desc, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));

  {
    const cudaError_t pe = ncod::cuda::probe_kernels();
    if (pe != cudaSuccess) {
      (void)cudaGetLastError();
      fail(std::string("the plugin has no kernels for ") + desc + " (built for sm_75 and newer): " +
           cudaGetErrorString(pe) + " (" + cudaGetErrorName(pe) + ")");
    }
  }

  std::string description = desc;  // allocate before creating handles, so nothing below can throw after them

  cudaStream_t stream = nullptr;
  // Non-blocking: no implicit synchronisation with the legacy default stream of whoever else shares the context.
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  std::string blas_err;
  bool blas_ok = false;
  try {
    blas_ok = s.blas.create(stream, blas_err);
  } catch (...) {
    (void)cudaStreamDestroy(stream);
    throw;
  }
  if (!blas_ok) {
    (void)cudaStreamDestroy(stream);
    fail(blas_err);
  }

  s.device = dev;
  s.stream = stream;
  s.description = std::move(description);
  s.ready = true;
}

void copy_to_device(void* dst, const void* src, size_t bytes, cudaStream_t stream, const char* what) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream), what);
}

void copy_to_host(void* dst, const void* src, size_t bytes, cudaStream_t stream, const char* what) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), what);
}

void poison(double* p, size_t n, cudaStream_t stream, const char* what) {
  if constexpr (kPoison) {
    check(ncod::cuda::launch_fill_f64(p, n, std::numeric_limits<double>::quiet_NaN(), stream), what);
  } else {
    (void)p;
    (void)n;
    (void)stream;
    (void)what;
  }
}

void class_sums_locked(State& s, const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                       double* counts, double* sums) {
  if (rows == 0) return;  // nothing to add
  if (num_classes == 0) fail("accumulate_class_sums: num_classes must be positive when rows > 0");
  if (y == nullptr || counts == nullptr) fail("accumulate_class_sums: null y or counts pointer");
  if (d > 0 && (x == nullptr || sums == nullptr)) fail("accumulate_class_sums: null x or sums pointer");
  (void)checked_mul(rows, d, "rows × d");
  const size_t cd = checked_mul(num_classes, d, "num_classes × d");
  // host_stage holds counts and sums back to back.
  (void)checked_mul(checked_add(num_classes, cd, "num_classes × (d + 1)"), sizeof(double), "num_classes × (d + 1)");

  init_locked(s);
  const cudaStream_t st = s.stream;

  const size_t chunk_rows = std::min(rows, std::max<size_t>(1, kClassSumsChunkFloats / std::max<size_t>(d, 1)));
  s.x.reserve(chunk_rows * d * sizeof(float), "x chunk");
  s.y.reserve(chunk_rows * sizeof(int32_t), "y chunk");
  s.counts.reserve(num_classes * sizeof(double), "class counts");
  s.sums.reserve(cd * sizeof(double), "class sums");

  // The kernels accumulate with atomics across chunks, so the device totals start at zero (no NaN poison here:
  // every element is read-modify-written, never plainly overwritten).
  check(cudaMemsetAsync(s.counts.as<void>(), 0, num_classes * sizeof(double), st), "cudaMemsetAsync(class counts)");
  if (cd > 0) check(cudaMemsetAsync(s.sums.as<void>(), 0, cd * sizeof(double), st), "cudaMemsetAsync(class sums)");

  for (size_t start = 0; start < rows; start += chunk_rows) {
    const size_t n = std::min(chunk_rows, rows - start);
    if (d > 0) copy_to_device(s.x.as<void>(), x + start * d, n * d * sizeof(float), st, "copying x to the device");
    copy_to_device(s.y.as<void>(), y + start, n * sizeof(int32_t), st, "copying y to the device");
    check(ncod::cuda::launch_class_sums(s.x.as<const float>(), s.y.as<const int32_t>(), n, d, num_classes,
                                        s.counts.as<double>(), d > 0 ? s.sums.as<double>() : nullptr, st),
          "launching the class-sums kernels");
  }

  s.host_stage.resize(num_classes + cd);
  copy_to_host(s.host_stage.data(), s.counts.as<const void>(), num_classes * sizeof(double), st,
               "copying class counts to the host");
  copy_to_host(s.host_stage.data() + num_classes, s.sums.as<const void>(), cd * sizeof(double), st,
               "copying class sums to the host");
  check(cudaStreamSynchronize(st), "running the class-sums kernels");  // kernel faults surface here

  const double* h = s.host_stage.data();
  for (size_t c = 0; c < num_classes; ++c) counts[c] += h[c];
  for (size_t k = 0; k < cd; ++k) sums[k] += h[num_classes + k];
}

void poison_bytes(void* p, size_t bytes, cudaStream_t stream, const char* what) {
  // All-ones bytes: NaN as float32, -1 as int32.
  if constexpr (kPoison) {
    if (bytes > 0) check(cudaMemsetAsync(p, 0xFF, bytes, stream), what);
  } else {
    (void)p;
    (void)bytes;
    (void)stream;
    (void)what;
  }
}

void centred_locked(State& s, const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                    const ncod_cuda_centred_request* request) {
  if (request == nullptr) fail("accumulate_centred: null request");
  const ncod_cuda_centred_request& r = *request;
  const size_t p = r.basis_cols;
  const size_t num_argmax = r.num_argmax;

  // Validate the request before the empty-input shortcut, so misuse shows up on any input.
  if (num_argmax > NCOD_CUDA_MAX_ARGMAX)
    fail("accumulate_centred: num_argmax " + std::to_string(num_argmax) + " exceeds " +
         std::to_string(NCOD_CUDA_MAX_ARGMAX));
  if (r.sq_cols > p) fail("accumulate_centred: sq_cols exceeds basis_cols");
  if (r.sq_cols > 0 && r.projection_sq_sums == nullptr) fail("accumulate_centred: null projection_sq_sums");
  size_t table_elems = 0;
  for (size_t k = 0; k < num_argmax; ++k) {
    const ncod_cuda_argmax& a = r.argmax[k];
    const std::string which = "accumulate_centred: argmax[" + std::to_string(k) + "]";
    if (a.classes == 0) fail(which + ": classes must be positive");
    if (a.classes > static_cast<size_t>(INT32_MAX)) fail(which + ": too many classes for int32 output");
    if (a.offset > p || a.classes > p - a.offset) fail(which + ": offset + classes exceeds basis_cols");
    if (a.table == nullptr || a.out == nullptr) fail(which + ": null table or out");
    table_elems = checked_add(table_elems, checked_mul(a.classes, a.classes, "argmax classes²"), "argmax tables");
  }
  const bool want_scatter = r.scatter != nullptr;
  const bool want_norms = r.class_sq_norms != nullptr;
  const bool want_proj = r.sq_cols > 0 || num_argmax > 0;  // both imply p > 0
  const bool want_z = want_scatter || want_norms;
  if (want_proj && r.basis == nullptr) fail("accumulate_centred: null basis");

  if (rows == 0 || !(want_scatter || want_norms || want_proj)) return;  // nothing to add or write
  if (d == 0) fail("accumulate_centred: d must be positive");
  if (num_classes == 0) fail("accumulate_centred: num_classes must be positive when rows > 0");
  if (x == nullptr || y == nullptr || r.means == nullptr) fail("accumulate_centred: null x, y or means pointer");
  if (d > static_cast<size_t>(INT_MAX) || p > static_cast<size_t>(INT_MAX))
    fail("accumulate_centred: d or basis_cols exceeds the cuBLAS int limit");
  (void)checked_mul(rows, d, "rows × d");
  const size_t cd = checked_mul(num_classes, d, "num_classes × d");
  (void)checked_mul(cd, sizeof(double), "num_classes × d");
  const size_t dd = want_scatter ? checked_mul(d, d, "d × d") : 0;
  const size_t dp = want_proj ? checked_mul(d, p, "d × basis_cols") : 0;
  const size_t norms_n = want_norms ? num_classes : 0;
  const size_t sq_n = r.sq_cols;
  (void)checked_mul(checked_add(checked_add(dd, norms_n, "outputs"), sq_n, "outputs"), sizeof(double), "outputs");
  (void)checked_mul(table_elems, sizeof(double), "argmax tables");

  // Device bytes per row of a chunk; every term is <= 12·max(d, p) + 20, no overflow for d, p <= INT_MAX.
  size_t row_bytes = d * sizeof(float) + sizeof(int32_t);
  if (want_z) row_bytes += d * sizeof(double);
  if (want_proj) row_bytes += d * sizeof(float) + p * sizeof(float) + num_argmax * sizeof(int32_t);
  const size_t chunk_rows = std::min({rows, std::max<size_t>(1, kCentredChunkBytes / row_bytes),
                                      static_cast<size_t>(INT_MAX)});

  init_locked(s);
  const cudaStream_t st = s.stream;
  using ncod::cuda::Blas;

  s.x.reserve(chunk_rows * d * sizeof(float), "x chunk");
  s.y.reserve(chunk_rows * sizeof(int32_t), "y chunk");
  s.means.reserve(cd * sizeof(double), "class means");
  if (want_z) s.z.reserve(chunk_rows * d * sizeof(double), "centred chunk z");
  if (want_scatter) s.scatter.reserve(dd * sizeof(double), "scatter matrix");
  if (want_norms) s.norms.reserve(num_classes * sizeof(double), "class squared norms");
  if (want_proj) {
    s.basis.reserve(dp * sizeof(float), "projection basis");
    s.z32.reserve(chunk_rows * d * sizeof(float), "float32 centred chunk");
    s.proj.reserve(chunk_rows * p * sizeof(float), "projections");
  }
  if (sq_n > 0) s.sq_sums.reserve(sq_n * sizeof(double), "projection squared sums");
  if (num_argmax > 0) {
    s.tables.reserve(table_elems * sizeof(double), "argmax tables");
    s.argmax_out.reserve(num_argmax * chunk_rows * sizeof(int32_t), "argmax outputs");
  }

  // Per-call inputs.
  copy_to_device(s.means.as<void>(), r.means, cd * sizeof(double), st, "copying the class means to the device");
  if (want_proj) copy_to_device(s.basis.as<void>(), r.basis, dp * sizeof(float), st, "copying the basis to the device");
  size_t table_offsets[NCOD_CUDA_MAX_ARGMAX] = {};
  for (size_t k = 0, off = 0; k < num_argmax; ++k) {
    table_offsets[k] = off;
    const size_t n = r.argmax[k].classes * r.argmax[k].classes;
    copy_to_device(s.tables.as<double>() + off, r.argmax[k].table, n * sizeof(double), st,
                   "copying an argmax table to the device");
    off += n;
  }
  // Accumulators: atomics need zeros; the scatter is written by a first dsyrk with beta = 0 (C not read), so it is
  // poisoned instead, which checks that dsyrk + symmetrize write every element.
  if (want_norms)
    check(cudaMemsetAsync(s.norms.as<void>(), 0, num_classes * sizeof(double), st), "cudaMemsetAsync(norms)");
  if (sq_n > 0)
    check(cudaMemsetAsync(s.sq_sums.as<void>(), 0, sq_n * sizeof(double), st), "cudaMemsetAsync(squared sums)");
  if (want_scatter) poison(s.scatter.as<double>(), dd, st, "poisoning the scatter buffer");

  const int d_int = static_cast<int>(d);
  const int p_int = static_cast<int>(p);
  bool first_syrk = true;
  std::string blas_err;
  for (size_t start = 0; start < rows; start += chunk_rows) {
    const size_t n = std::min(chunk_rows, rows - start);
    const int n_int = static_cast<int>(n);
    copy_to_device(s.x.as<void>(), x + start * d, n * d * sizeof(float), st, "copying x to the device");
    copy_to_device(s.y.as<void>(), y + start, n * sizeof(int32_t), st, "copying y to the device");

    double* z = want_z ? s.z.as<double>() : nullptr;
    float* z32 = want_proj ? s.z32.as<float>() : nullptr;
    if (want_z) poison(z, n * d, st, "poisoning the centred chunk");
    if (want_proj) poison_bytes(z32, n * d * sizeof(float), st, "poisoning the float32 centred chunk");
    check(ncod::cuda::launch_center_rows(s.x.as<const float>(), s.y.as<const int32_t>(), s.means.as<const double>(),
                                         n, d, num_classes, z, z32, st),
          "launching the centring kernel");

    if (want_norms)
      check(ncod::cuda::launch_class_sq_norms(z, s.y.as<const int32_t>(), n, d, num_classes, s.norms.as<double>(), st),
            "launching the class-norms kernel");

    if (want_scatter) {
      // Row-major z (n×d) is column-major d×n with leading dimension d: upper(S) (+)= zᵀz.
      if (!s.blas.dsyrk_accumulate(d_int, n_int, z, d_int, first_syrk ? 0.0 : 1.0, s.scatter.as<double>(), d_int,
                                   blas_err))
        fail(blas_err);
      first_syrk = false;
    }

    if (want_proj) {
      // Row-major P (n×p) = Z32 (n×d) · basis (d×p). Column-major that is Pᵀ (p×n, ld p) = basisᵀ (p×d, ld p) ·
      // Z32ᵀ (d×n, ld d): no transposes, the row-major buffers are used as they are.
      float* P = s.proj.as<float>();
      poison_bytes(P, n * p * sizeof(float), st, "poisoning the projections");
      if (!s.blas.sgemm(Blas::Op::N, Blas::Op::N, p_int, n_int, d_int, s.basis.as<const float>(), p_int, z32, d_int,
                        P, p_int, blas_err))
        fail(blas_err);
      if (sq_n > 0)
        check(ncod::cuda::launch_column_sq_sums(P, n, p, sq_n, s.sq_sums.as<double>(), st),
              "launching the projection squared-sums kernel");
      for (size_t k = 0; k < num_argmax; ++k) {
        const ncod_cuda_argmax& a = r.argmax[k];
        int32_t* out = s.argmax_out.as<int32_t>() + k * chunk_rows;
        poison_bytes(out, n * sizeof(int32_t), st, "poisoning the argmax output");
        check(ncod::cuda::launch_argmax_rows(P, n, p, a.offset, a.classes, a.scale,
                                             s.tables.as<const double>() + table_offsets[k], s.y.as<const int32_t>(),
                                             out, st),
              "launching the argmax kernel");
        // Written, not added: straight into the caller's array (out is indexed by row within the call).
        copy_to_host(a.out + start, out, n * sizeof(int32_t), st, "copying argmax results to the host");
      }
    }
  }

  // dsyrk wrote the upper triangle of the column-major matrix; mirror it so the host gets the full matrix.
  if (want_scatter)
    check(ncod::cuda::launch_symmetrize_upper(s.scatter.as<double>(), d, st), "launching the symmetrize kernel");

  s.host_stage.resize(dd + norms_n + sq_n);
  double* h = s.host_stage.data();
  if (want_scatter)
    copy_to_host(h, s.scatter.as<const void>(), dd * sizeof(double), st, "copying the scatter matrix to the host");
  if (want_norms)
    copy_to_host(h + dd, s.norms.as<const void>(), norms_n * sizeof(double), st, "copying class norms to the host");
  if (sq_n > 0)
    copy_to_host(h + dd + norms_n, s.sq_sums.as<const void>(), sq_n * sizeof(double), st,
                 "copying projection squared sums to the host");
  check(cudaStreamSynchronize(st), "running the centred-pass kernels");  // kernel and cuBLAS faults surface here

  // The scatter is symmetric, so row-major and column-major read the same.
  for (size_t k = 0; k < dd; ++k) r.scatter[k] += h[k];
  for (size_t c = 0; c < norms_n; ++c) r.class_sq_norms[c] += h[dd + c];
  for (size_t k = 0; k < sq_n; ++k) r.projection_sq_sums[k] += h[dd + norms_n + k];
}

void gram_locked(State& s, const double* a, size_t m, const double* b, size_t n, size_t k, double* out) {
  if (m == 0 || n == 0) return;  // empty output
  if (out == nullptr) fail("gram: null out pointer");
  const size_t mn = checked_mul(m, n, "m × n");
  (void)checked_mul(mn, sizeof(double), "m × n");
  if (k == 0) {  // empty inner dimension: every dot product is 0
    std::fill(out, out + mn, 0.0);
    return;
  }
  if (a == nullptr || b == nullptr) fail("gram: null a or b pointer");
  if (m > static_cast<size_t>(INT_MAX) || n > static_cast<size_t>(INT_MAX) || k > static_cast<size_t>(INT_MAX))
    fail("gram: a dimension exceeds the cuBLAS int limit");
  const size_t mk = checked_mul(m, k, "m × k");
  const size_t nk = checked_mul(n, k, "n × k");
  (void)checked_mul(mk, sizeof(double), "m × k");
  (void)checked_mul(nk, sizeof(double), "n × k");

  init_locked(s);
  const cudaStream_t st = s.stream;
  const bool same = a == b && m == n;  // A Aᵀ (common): upload once

  s.gram_a.reserve(mk * sizeof(double), "gram A");
  if (!same) s.gram_b.reserve(nk * sizeof(double), "gram B");
  s.gram_out.reserve(mn * sizeof(double), "gram output");
  copy_to_device(s.gram_a.as<void>(), a, mk * sizeof(double), st, "copying gram A to the device");
  if (!same) copy_to_device(s.gram_b.as<void>(), b, nk * sizeof(double), st, "copying gram B to the device");
  const double* dev_a = s.gram_a.as<const double>();
  const double* dev_b = same ? dev_a : s.gram_b.as<const double>();
  poison(s.gram_out.as<double>(), mn, st, "poisoning the gram output");

  // Row-major out (m×n) = A Bᵀ is column-major outᵀ (n×m, ld n) = B Aᵀ. Row-major B (n×k) is column-major k×n
  // (ld k), so B = (that)ᵀ: op T; row-major A (m×k) is column-major k×m = Aᵀ: op N.
  std::string blas_err;
  if (!s.blas.dgemm(ncod::cuda::Blas::Op::T, ncod::cuda::Blas::Op::N, static_cast<int>(n), static_cast<int>(m),
                    static_cast<int>(k), dev_b, static_cast<int>(k), dev_a, static_cast<int>(k),
                    s.gram_out.as<double>(), static_cast<int>(n), blas_err))
    fail(blas_err);
  copy_to_host(out, s.gram_out.as<const void>(), mn * sizeof(double), st, "copying the gram matrix to the host");
  check(cudaStreamSynchronize(st), "running the gram product");
}

// ---- OOD detectors. Inputs were validated by the addon (core/detectors.cpp); these check only what protects memory.
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
    check(ncod::cuda::launch_score_logits(s.det_rows.as<const float>(), n, C, nullptr, spec->kind, spec->temperature,
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
  std::string blas_err;
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    if (clip < std::numeric_limits<float>::infinity())
      check(ncod::cuda::launch_clip(s.det_rows.as<float>(), n * d, clip, st), "launching the clip kernel");
    // Row-major Z (n×C) = X Wᵀ is column-major Zᵀ (C×n) = W_cmᵀ X_cm with W_cm = Wᵀ (d×C) and X_cm = Xᵀ (d×n).
    poison_bytes(s.det_product.as<void>(), n * C * sizeof(float), st, "poisoning the logits");
    if (!s.blas.sgemm(ncod::cuda::Blas::Op::T, ncod::cuda::Blas::Op::N, int(C), int(n), int(d), s.det_head.as<const float>(),
                      int(d), s.det_rows.as<const float>(), int(d), s.det_product.as<float>(), int(C), blas_err))
      fail(blas_err);
    check(ncod::cuda::launch_score_logits(s.det_product.as<const float>(), n, C, bias ? s.det_bias.as<const float>() : nullptr,
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
  using ncod::cuda::Blas;
  std::string blas_err;
  for (size_t start = 0; start < rows; start += block) {
    const size_t n = std::min(block, rows - start);
    copy_to_device(s.det_rows.as<void>(), x + start * d, n * d * sizeof(float), st, "copying features to the device");
    check(ncod::cuda::launch_shift_rows(s.det_rows.as<const float>(), n, d, s.det_shift.as<const double>(),
                                        s.det_xs.as<double>(), st),
          "launching the shift kernel");
    // Y (n×p) = XS Lᵀ, then G (n×count) = Y Mᵀ; column-major as in linear_scores_locked.
    if (!s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(p), int(n), int(d), s.det_whitening.as<const double>(), int(d),
                      s.det_xs.as<const double>(), int(d), s.det_y.as<double>(), int(p), blas_err) ||
        !s.blas.dgemm(Blas::Op::T, Blas::Op::N, int(count), int(n), int(p), s.det_centres.as<const double>(), int(p),
                      s.det_y.as<const double>(), int(p), s.det_g.as<double>(), int(count), blas_err))
      fail(blas_err);
    poison(s.det_out.as<double>(), n, st, "poisoning the distances");
    check(ncod::cuda::launch_min_distances(s.det_y.as<const double>(), n, p, s.det_g.as<const double>(), count,
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
  std::string blas_err;
  for (size_t start = 0; start < rows; start += qblock) {
    const size_t n = std::min(qblock, rows - start);
    copy_to_device(s.det_rows.as<void>(), q + start * d, n * d * sizeof(float), st, "copying queries to the device");
    check(cudaMemsetAsync(s.knn_sizes.as<void>(), 0, n * sizeof(uint32_t), st), "cudaMemsetAsync(heap sizes)");
    for (size_t t0 = 0; t0 < bank_rows; t0 += tile) {
      const size_t m = std::min(tile, bank_rows - t0);
      // Row-major S (n×m) = Q Bᵀ: column-major Sᵀ (m×n) = B_cmᵀ Q_cm.
      if (!s.blas.sgemm(ncod::cuda::Blas::Op::T, ncod::cuda::Blas::Op::N, int(m), int(n), int(d),
                        s.knn_bank.as<const float>() + t0 * d, int(d), s.det_rows.as<const float>(), int(d),
                        s.det_product.as<float>(), int(m), blas_err))
        fail(blas_err);
      check(ncod::cuda::launch_topk_update(s.det_product.as<const float>(), n, m, k, s.knn_heaps.as<float>(),
                                           s.knn_sizes.as<uint32_t>(), st),
            "launching the top-k kernel");
    }
    check(ncod::cuda::launch_topk_result(s.knn_heaps.as<const float>(), n, k, s.det_out.as<double>(), st),
          "launching the top-k result kernel");
    copy_to_host(out + start, s.det_out.as<const void>(), n * sizeof(double), st, "copying KNN scores to the host");
  }
  check(cudaStreamSynchronize(st), "running the KNN kernels");
}

namespace ops = ncod::cuda;

// The stream, cuBLAS handle and scratch of the training operations, after selecting the device.
ops::TrainContext train_context(State& s) {
  init_locked(s);
  return ops::TrainContext{s.stream, s.blas, s.train};
}

void device_name_locked(State& s, char* out, size_t outlen) {
  if (out == nullptr || outlen == 0) fail("device_name: empty output buffer");
  init_locked(s);
  set_message(out, outlen, s.description.c_str());  // truncated to fit, always NUL-terminated
}

}  // namespace

// C linkage for the functions stored in the C struct (language linkage is part of a function's type).
extern "C" {

static int ncod_cuda_init(char* err, size_t errlen) {
  return guarded(err, errlen, [](State& s) { init_locked(s); });
}

static int ncod_cuda_device_name(char* out, size_t outlen, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { device_name_locked(s, out, outlen); });
}

static int ncod_cuda_accumulate_class_sums(const float* x, const int32_t* y, size_t rows, size_t d,
                                           size_t num_classes, double* counts, double* sums, char* err,
                                           size_t errlen) {
  return guarded(err, errlen, [&](State& s) { class_sums_locked(s, x, y, rows, d, num_classes, counts, sums); });
}

static int ncod_cuda_accumulate_centred(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                                        const ncod_cuda_centred_request* request, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { centred_locked(s, x, y, rows, d, num_classes, request); });
}

static int ncod_cuda_gram(const double* a, size_t m, const double* b, size_t n, size_t k, double* out, char* err,
                          size_t errlen) {
  return guarded(err, errlen, [&](State& s) { gram_locked(s, a, m, b, n, k, out); });
}

static int ncod_cuda_score_logits(const float* logits, size_t rows, size_t classes, const ncod_cuda_logit_spec* spec,
                                  double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { score_logits_locked(s, logits, rows, classes, spec, out); });
}

static int ncod_cuda_linear_scores(const float* x, size_t rows, size_t d, const float* weights, const float* bias,
                                   size_t classes, float clip, const ncod_cuda_logit_spec* spec, double* out, char* err,
                                   size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { linear_scores_locked(s, x, rows, d, weights, bias, classes, clip, spec, out); });
}

static int ncod_cuda_min_whitened_sq_distances(const float* x, size_t rows, size_t d, const double* shift,
                                               const double* whitening, size_t p, const double* centres, size_t count,
                                               double* out, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { min_whitened_locked(s, x, rows, d, shift, whitening, p, centres, count, out); });
}

static int ncod_cuda_knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows,
                                        size_t d, size_t k, double* out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { knn_locked(s, queries, rows, bank, bank_rows, d, k, out); });
}

// ---- Version 4: training. Thin wrappers: train_ops.cpp does the work.

static int ncod_cuda_train_alloc(size_t bytes, void** out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (out == nullptr) fail("train_alloc: null out pointer");
    init_locked(s);
    *out = ops::train_alloc(bytes);
  });
}

static void ncod_cuda_train_free(void* p) {
  if (p == nullptr) return;
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.ready) (void)cudaSetDevice(s.device);
    ops::train_free(s.stream, p);
  } catch (...) {
    // std::mutex::lock can only fail with a system_error; nothing to report through a void function.
  }
}

static int ncod_cuda_train_upload(void* dst, const void* host_src, size_t bytes, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_upload(train_context(s).stream, dst, host_src, bytes); });
}

static int ncod_cuda_train_download(void* host_dst, const void* src, size_t bytes, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_download(train_context(s).stream, host_dst, src, bytes); });
}

static int ncod_cuda_train_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float* a, const float* b,
                                 float beta, float* c, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_sgemm(train_context(s), trans_a != 0, trans_b != 0, m, n, k, a, b, beta, c); });
}

static int ncod_cuda_train_bias_activation(float* y, const float* bias, size_t rows, size_t cols, int relu, char* err,
                                           size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_bias_activation(train_context(s), y, bias, rows, cols, relu != 0); });
}

static int ncod_cuda_train_activation_backward(float* dy, const float* y, size_t rows, size_t cols, int relu, float* db,
                                               char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_activation_backward(train_context(s), dy, y, rows, cols, relu != 0, db);
  });
}

static int ncod_cuda_train_adamw(float* p, const float* g, float* m, float* v, size_t n, const ncod_cuda_adamw* hp,
                                 int64_t step, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (hp == nullptr) fail("train_adamw: null hyper-parameters");
    ops::train_adamw(train_context(s), p, g, m, v, n, hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, step);
  });
}

static int ncod_cuda_train_gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order,
                                       size_t n, float* xb, int32_t* yb, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_gather_rows(train_context(s), x, y, rows, dim, order, n, xb, yb); });
}

static int ncod_cuda_train_add(float* y, const float* x, size_t n, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_add(train_context(s), y, x, n); });
}

static int ncod_cuda_train_layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows,
                                              size_t cols, int relu, float* y, float* mean, float* rstd, char* err,
                                              size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_layer_norm_forward(train_context(s), x, gamma, beta, rows, cols, relu != 0, y, mean, rstd);
  });
}

static int ncod_cuda_train_layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma,
                                               const float* y, const float* dy, size_t rows, size_t cols, int relu,
                                               float* dx, float* dgamma, float* dbeta, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_layer_norm_backward(train_context(s), x, mean, rstd, gamma, y, dy, rows, cols, relu != 0, dx, dgamma,
                                   dbeta);
  });
}

static int ncod_cuda_train_cross_entropy_ls(const float* logits, const int32_t* y, size_t rows, size_t classes,
                                            double smoothing, float* dlogits, double* loss, size_t* correct, char* err,
                                            size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (loss == nullptr) fail("train_cross_entropy_ls: null loss pointer");
    *loss = ops::train_cross_entropy_ls(train_context(s), logits, y, rows, classes, smoothing, dlogits, correct);
  });
}

static int ncod_cuda_train_nn_entropy(const float* e, size_t rows, size_t d, double scale, float* de, double* loss,
                                      char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (loss == nullptr) fail("train_nn_entropy: null loss pointer");
    *loss = ops::train_nn_entropy(train_context(s), e, rows, d, scale, de);
  });
}

static int ncod_cuda_train_etf_forward(const float* e, size_t rows, size_t d, size_t h, float* hidden, float* z,
                                       char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_etf_forward(train_context(s), e, rows, d, h, hidden, z); });
}

static int ncod_cuda_train_etf_backward(const float* hidden, const float* z, const float* dz, size_t rows, size_t d,
                                        size_t h, float* de, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_etf_backward(train_context(s), hidden, z, dz, rows, d, h, de); });
}

static void ncod_cuda_shutdown(void) {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    release_all(s);
  } catch (...) {
    // std::mutex::lock can only fail with a system_error; nothing to report through a void function.
  }
}

NCOD_CUDA_EXPORT const ncod_cuda_api* ncod_cuda_get_api(int requested_version) {
  static const ncod_cuda_api api = {
      NCOD_CUDA_ABI_VERSION,
      &ncod_cuda_init,
      &ncod_cuda_device_name,
      &ncod_cuda_accumulate_class_sums,
      &ncod_cuda_accumulate_centred,
      &ncod_cuda_gram,
      &ncod_cuda_score_logits,
      &ncod_cuda_linear_scores,
      &ncod_cuda_min_whitened_sq_distances,
      &ncod_cuda_knn_kth_similarity,
      &ncod_cuda_train_alloc,
      &ncod_cuda_train_free,
      &ncod_cuda_train_upload,
      &ncod_cuda_train_download,
      &ncod_cuda_train_sgemm,
      &ncod_cuda_train_bias_activation,
      &ncod_cuda_train_activation_backward,
      &ncod_cuda_train_adamw,
      &ncod_cuda_train_gather_rows,
      &ncod_cuda_train_add,
      &ncod_cuda_train_layer_norm_forward,
      &ncod_cuda_train_layer_norm_backward,
      &ncod_cuda_train_cross_entropy_ls,
      &ncod_cuda_train_nn_entropy,
      &ncod_cuda_train_etf_forward,
      &ncod_cuda_train_etf_backward,
      &ncod_cuda_shutdown,
  };
  return requested_version == NCOD_CUDA_ABI_VERSION ? &api : nullptr;
}

}  // extern "C"
