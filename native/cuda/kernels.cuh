// Host launchers for the ncod CUDA kernels (implemented in kernels.cu).
//
// Every launcher takes device pointers and a stream, only enqueues work (it never synchronises), checks the
// launch with cudaGetLastError() and returns the first error. Sizes are size_t throughout; rows×d may exceed 2^31.
// Zero-sized work (rows == 0 or d == 0) is a no-op that returns cudaSuccess without launching anything.
//
// Labels are expected to be validated on the host (0 <= y[i] < num_classes). As a memory-safety guard the kernels
// never index with an out-of-range label: such rows contribute nothing to sums (centred rows become zeros) and get
// -1 from launch_argmax_rows.
//
// This header is included by the plugin's host sources (native/cuda/*.cpp), which the host C++ compiler builds, so it
// must stay free of device code.
#ifndef NCOD_CUDA_KERNELS_CUH
#define NCOD_CUDA_KERNELS_CUH

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace ncod::cuda {

// counts[c] += #{i : y[i] == c}            (skipped when counts == nullptr)
// sums[c*d + j] += x[i*d + j] for y[i] == c (skipped when d == 0)
// x: rows×d float32 row-major, y: rows int32, counts: num_classes float64, sums: num_classes×d float64 row-major.
// Accumulates with atomicAdd, so the caller zeroes counts/sums before the first chunk and may call this repeatedly
// (once per chunk of rows) into the same buffers. The order of the float64 additions is not deterministic.
// Returns cudaErrorInvalidValue when rows > 0 and num_classes == 0, or when a grid dimension would overflow.
cudaError_t launch_class_sums(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                              double* counts, double* sums, cudaStream_t stream);

// z[i*d + j] = (double)x[i*d + j] - means[y[i]*d + j]   (z: rows×d float64 row-major; overwritten, not accumulated)
// z32[i*d + j] = (float)z[i*d + j]                       (same layout in float32, for the projection GEMM)
// Either output may be nullptr (not written); centring is always done in float64. means: num_classes×d float64
// row-major. A row with an out-of-range label is written as zeros.
cudaError_t launch_center_rows(const float* x, const int32_t* y, const double* means, size_t rows, size_t d,
                               size_t num_classes, double* z, float* z32, cudaStream_t stream);

// norms[y[i]] += Σ_j z[i*d + j]²   (z: rows×d float64 row-major, norms: num_classes float64; atomics, so the
// caller zeroes norms first and may call this once per chunk).
cudaError_t launch_class_sq_norms(const double* z, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                                  double* norms, cudaStream_t stream);

// sums[k] += Σ_i (double)p[i*ld + k]²  for k < cols   (p: rows×ld float32 row-major, cols <= ld; atomics).
cudaError_t launch_column_sq_sums(const float* p, size_t rows, size_t ld, size_t cols, double* sums,
                                  cudaStream_t stream);

// out[i] = the smallest c < classes maximising scale·(double)p[i*ld + offset + c] + table[y[i]*classes + c], the same
// rule as a sequential scan with a strict '>' from -inf: NaN scores never win, and a row where nothing beats -inf
// gets 0. Products and sums are rounded separately (no FMA contraction) to match a plain CPU loop. A row whose label
// is outside [0, classes) gets -1. Requires offset + classes <= ld. out: rows int32, written (not accumulated).
cudaError_t launch_argmax_rows(const float* p, size_t rows, size_t ld, size_t offset, size_t classes, double scale,
                               const double* table, const int32_t* y, int32_t* out, cudaStream_t stream);

// a: n×n float64, COLUMN-MAJOR with leading dimension n, i.e. A(r, c) = a[r + c*n] (the cuBLAS convention).
// Copies the upper triangle (r < c, as written by cublasDsyrk with CUBLAS_FILL_MODE_UPPER) onto the strict lower
// triangle: A(c, r) = A(r, c). The diagonal and the upper triangle are only read. The result is symmetric, so it
// reads the same row-major or column-major. Requires ceil(n/32) <= 65535 (n <= 2,097,120).
cudaError_t launch_symmetrize_upper(double* a, size_t n, cudaStream_t stream);

// p[k] = value for k in [0, n). Used to initialise buffers and, in NCOD_POISON builds, to poison outputs with NaN
// before the kernel that should overwrite them runs.
cudaError_t launch_fill_f64(double* p, size_t n, double value, cudaStream_t stream);

// Checks that this plugin's fatbinary holds code the current device can run (returns e.g.
// cudaErrorNoKernelImageForDevice otherwise) without launching anything. Call with the device selected.
cudaError_t probe_kernels();

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_KERNELS_CUH
