// Host-side helpers shared by the plugin's sources: failures as exceptions, checked sizes, device memory.
// Host-compiler header (CUDA runtime API only). Every failure throws Failure (or std::bad_alloc); the ABI entry points
// in plugin.cpp turn it into an error message.
#ifndef NCOD_CUDA_RUNTIME_H
#define NCOD_CUDA_RUNTIME_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace ncod::cuda {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& msg) { throw Failure(msg); }

// Every message for an allocation failure contains "out of memory": the addon relies on that to classify it
// (cudaErrorMemoryAllocation's string is "out of memory"; host and cuBLAS allocation failures say so explicitly).

// Throws "what: <cudaGetErrorString> (<cudaGetErrorName>)". Also clears the runtime's last-error slot so a
// non-sticky error (e.g. a failed cudaMalloc) is not reported again by a later cudaGetLastError().
inline void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  fail(std::string(what) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

inline size_t checked_mul(size_t a, size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) fail(std::string(what) + " overflows size_t");
  return a * b;
}

inline size_t checked_add(size_t a, size_t b, const char* what) {
  if (b > std::numeric_limits<size_t>::max() - a) fail(std::string(what) + " overflows size_t");
  return a + b;
}

// cudaMalloc that throws "cudaMalloc(<bytes> bytes for <what>): out of memory (...)" on failure.
inline void* device_alloc(size_t bytes, const char* what) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail(std::string("cudaMalloc(") + std::to_string(bytes) + " bytes for " + what + "): " + cudaGetErrorString(e) +
         " (" + cudaGetErrorName(e) + ")");
  }
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
