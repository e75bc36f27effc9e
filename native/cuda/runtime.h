// Host-side helpers shared by the plugin's sources: failures as exceptions, checked sizes, device memory.
// Host-compiler header (CUDA runtime API only). Every failure throws Failure (or std::bad_alloc); the ABI entry points
// (plugin_state.h guarded) turn it into its ncod_cuda_status and message.
#ifndef NCOD_CUDA_RUNTIME_H
#define NCOD_CUDA_RUNTIME_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "ncod_cuda_abi.h"

namespace ncod::cuda {

// A failure and its ncod_cuda_status (ncod_cuda_abi.h), which is what crosses the ABI to tell the kinds apart.
struct Failure : std::runtime_error {
  Failure(int status, const std::string& msg) : std::runtime_error(msg), status(status) {}
  int status;
};

// Without a status: the plugin refuses its arguments (every call's own checks).
[[noreturn]] inline void fail(const std::string& msg) { throw Failure(NCOD_CUDA_INVALID_ARGUMENT, msg); }
[[noreturn]] inline void fail(int status, const std::string& msg) { throw Failure(status, msg); }

inline int status_of(cudaError_t e) {
  return e == cudaErrorMemoryAllocation ? NCOD_CUDA_OUT_OF_MEMORY : NCOD_CUDA_DRIVER_ERROR;
}

// Throws "what: <cudaGetErrorString> (<cudaGetErrorName>)" with the status of e. Also clears the runtime's last-error
// slot so a non-sticky error (e.g. a failed cudaMalloc) is not reported again by a later cudaGetLastError().
inline void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  fail(status_of(e), std::string(what) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

inline size_t checked_mul(size_t a, size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) fail(std::string(what) + " overflows size_t");
  return a * b;
}

inline size_t checked_add(size_t a, size_t b, const char* what) {
  if (b > std::numeric_limits<size_t>::max() - a) fail(std::string(what) + " overflows size_t");
  return a + b;
}

// cudaMalloc that throws "cudaMalloc(<bytes> bytes for <what>): ..." (NCOD_CUDA_OUT_OF_MEMORY when it is that).
inline void* device_alloc(size_t bytes, const char* what) {
  void* p = nullptr;
  const std::string call = std::string("cudaMalloc(") + std::to_string(bytes) + " bytes for " + what + ")";
  check(cudaMalloc(&p, bytes), call.c_str());
  return p;
}

// A device allocation that only grows. The plugin's State owning these is never destroyed, so the destructor only
// matters for temporaries.
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
    ptr_ = device_alloc(bytes, what);
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

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_RUNTIME_H
