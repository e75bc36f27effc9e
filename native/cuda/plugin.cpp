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
#include "kernels.cuh"

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

// NaN-poison device outputs before the kernel that should overwrite them, so a missed element shows up as NaN.
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

// Features copied per chunk: 64 Mi float32 = 256 MiB for the class sums. The scatter also needs a float64 copy of
// the chunk (z), so it takes half as many rows: 128 MiB of features + 256 MiB of z. A chunk is never less than one
// row. NCOD_CUDA_CHUNK_FLOATS exists only so tests can force many small chunks.
#ifndef NCOD_CUDA_CHUNK_FLOATS
#define NCOD_CUDA_CHUNK_FLOATS (size_t{64} << 20)
#endif
constexpr size_t kClassSumsChunkFloats = NCOD_CUDA_CHUNK_FLOATS;
constexpr size_t kScatterChunkFloats = NCOD_CUDA_CHUNK_FLOATS / 2;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& msg) { throw Failure(msg); }

// Throws "what: <cudaGetErrorString> (<cudaGetErrorName>)". Also clears the runtime's last-error slot so a
// non-sticky error (e.g. a failed cudaMalloc) is not reported again by a later cudaGetLastError().
void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  fail(std::string(what) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

size_t checked_mul(size_t a, size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) fail(std::string(what) + " overflows size_t");
  return a * b;
}

size_t checked_add(size_t a, size_t b, const char* what) {
  if (b > std::numeric_limits<size_t>::max() - a) fail(std::string(what) + " overflows size_t");
  return a + b;
}

// A device allocation that only grows. The State owning these is never destroyed (see state()), so the destructor
// only matters for temporaries.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Ensures at least `bytes` bytes; the old contents are not kept.
  void reserve(size_t bytes, const char* what) {
    if (bytes <= capacity_) return;
    release();
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      fail(std::string("cudaMalloc(") + std::to_string(bytes) + " bytes for " + what + "): " + cudaGetErrorString(e) +
           " (" + cudaGetErrorName(e) + ")");
    }
    ptr_ = p;
    capacity_ = bytes;
  }

  void release() noexcept {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);  // errors ignored: teardown, or the context is already gone
    ptr_ = nullptr;
    capacity_ = 0;
  }

  template <class T>
  T* as() const noexcept {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  size_t capacity_ = 0;
};

struct State {
  std::mutex mu;
  bool ready = false;
  int device = 0;
  cudaStream_t stream = nullptr;
  ncod::cuda::Blas blas;
  std::string description;

  DeviceBuffer x, y, counts, sums, means, z, scatter;
  std::vector<double> host_stage;  // results copied back before they are added into the caller's arrays

  void free_buffers() noexcept {
    for (DeviceBuffer* b : {&x, &y, &counts, &sums, &means, &z, &scatter}) b->release();
    std::vector<double>().swap(host_stage);
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
    set_message(err, errlen, "ncod CUDA plugin: out of host memory");
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

void within_scatter_locked(State& s, const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                           const double* means, double* scatter) {
  if (rows == 0 || d == 0) return;  // the sum is empty (or the matrix is 0×0): nothing to add
  if (num_classes == 0) fail("accumulate_within_scatter: num_classes must be positive when rows > 0");
  if (x == nullptr || y == nullptr || means == nullptr || scatter == nullptr)
    fail("accumulate_within_scatter: null x, y, means or scatter pointer");
  if (d > static_cast<size_t>(INT_MAX)) fail("accumulate_within_scatter: d exceeds the cuBLAS int limit");
  (void)checked_mul(rows, d, "rows × d");
  const size_t cd = checked_mul(num_classes, d, "num_classes × d");
  const size_t dd = checked_mul(d, d, "d × d");
  (void)checked_mul(cd, sizeof(double), "num_classes × d");
  (void)checked_mul(dd, sizeof(double), "d × d");

  init_locked(s);
  const cudaStream_t st = s.stream;

  // d <= INT_MAX, so chunk_rows <= kScatterChunkFloats also fits cuBLAS's int k.
  const size_t chunk_rows = std::min(rows, std::max<size_t>(1, kScatterChunkFloats / d));
  s.x.reserve(chunk_rows * d * sizeof(float), "x chunk");
  s.y.reserve(chunk_rows * sizeof(int32_t), "y chunk");
  s.z.reserve(chunk_rows * d * sizeof(double), "centred chunk z");
  s.means.reserve(cd * sizeof(double), "class means");
  s.scatter.reserve(dd * sizeof(double), "scatter matrix");

  copy_to_device(s.means.as<void>(), means, cd * sizeof(double), st, "copying the class means to the device");
  // The first dsyrk runs with beta = 0 (C is not read), so the scatter needs no zeroing; poisoning it checks that
  // dsyrk + symmetrize really write every element.
  poison(s.scatter.as<double>(), dd, st, "poisoning the scatter buffer");

  const int n_int = static_cast<int>(d);
  bool first = true;
  for (size_t start = 0; start < rows; start += chunk_rows) {
    const size_t n = std::min(chunk_rows, rows - start);
    copy_to_device(s.x.as<void>(), x + start * d, n * d * sizeof(float), st, "copying x to the device");
    copy_to_device(s.y.as<void>(), y + start, n * sizeof(int32_t), st, "copying y to the device");
    poison(s.z.as<double>(), n * d, st, "poisoning the centred chunk");
    check(ncod::cuda::launch_center_rows(s.x.as<const float>(), s.y.as<const int32_t>(), s.means.as<const double>(),
                                         n, d, num_classes, s.z.as<double>(), st),
          "launching the centring kernel");
    // Row-major z (n×d) is column-major d×n with leading dimension d: upper(S) (+)= z^T z.
    std::string blas_err;
    if (!s.blas.dsyrk_accumulate(n_int, static_cast<int>(n), s.z.as<const double>(), n_int, first ? 0.0 : 1.0,
                                 s.scatter.as<double>(), n_int, blas_err))
      fail(blas_err);
    first = false;
  }
  // dsyrk wrote the upper triangle of the column-major matrix; mirror it so the host gets the full matrix.
  check(ncod::cuda::launch_symmetrize_upper(s.scatter.as<double>(), d, st), "launching the symmetrize kernel");

  s.host_stage.resize(dd);
  copy_to_host(s.host_stage.data(), s.scatter.as<const void>(), dd * sizeof(double), st,
               "copying the scatter matrix to the host");
  check(cudaStreamSynchronize(st), "running the scatter kernels");  // kernel and cuBLAS faults surface here

  // Symmetric, so row-major and column-major read the same.
  const double* h = s.host_stage.data();
  for (size_t k = 0; k < dd; ++k) scatter[k] += h[k];
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

static int ncod_cuda_accumulate_within_scatter(const float* x, const int32_t* y, size_t rows, size_t d,
                                               size_t num_classes, const double* means, double* scatter, char* err,
                                               size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { within_scatter_locked(s, x, y, rows, d, num_classes, means, scatter); });
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
      &ncod_cuda_accumulate_within_scatter,
      &ncod_cuda_shutdown,
  };
  return requested_version == NCOD_CUDA_ABI_VERSION ? &api : nullptr;
}

}  // extern "C"
