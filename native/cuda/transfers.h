// Host ↔ device copies on the plugin's stream, output poisoning, and the row-chunk size of the class statistics.
#ifndef NCOD_CUDA_TRANSFERS_H
#define NCOD_CUDA_TRANSFERS_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <limits>

#include "kernels.cuh"
#include "runtime.h"

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

// Rows are copied to the device in chunks. Class sums: 64 Mi float32 features (256 MiB) per chunk. Centred pass:
// the per-row working set (features, float64 z, float32 z and projections, argmax outputs) is kept within 512 MiB,
// i.e. at most ~170 MiB of features. A chunk is never less than one row. NCOD_CUDA_CHUNK_FLOATS exists only so
// tests can force many small chunks (centred chunks then use 8 × that many bytes).
#ifndef NCOD_CUDA_CHUNK_FLOATS
#define NCOD_CUDA_CHUNK_FLOATS (size_t{64} << 20)
#endif

namespace ncod::cuda {

constexpr bool kPoison = NCOD_POISON != 0;
constexpr size_t kClassSumsChunkFloats = NCOD_CUDA_CHUNK_FLOATS;
constexpr size_t kCentredChunkBytes = NCOD_CUDA_CHUNK_FLOATS * 8;

inline void copy_to_device(void* dst, const void* src, size_t bytes, cudaStream_t stream, const char* what) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream), what);
}

inline void copy_to_host(void* dst, const void* src, size_t bytes, cudaStream_t stream, const char* what) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), what);
}

inline void poison(double* p, size_t n, cudaStream_t stream, const char* what) {
  if constexpr (kPoison) {
    check(launch_fill_f64(p, n, std::numeric_limits<double>::quiet_NaN(), stream), what);
  } else {
    (void)p, (void)n, (void)stream, (void)what;
  }
}

// All-ones bytes: NaN as float32, -1 as int32.
inline void poison_bytes(void* p, size_t bytes, cudaStream_t stream, const char* what) {
  if constexpr (kPoison) {
    if (bytes > 0) check(cudaMemsetAsync(p, 0xFF, bytes, stream), what);
  } else {
    (void)p, (void)bytes, (void)stream, (void)what;
  }
}

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_TRANSFERS_H
