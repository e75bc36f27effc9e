// Host launchers for the OOD detector kernels (implemented in detector_kernels.cu). Same conventions as
// kernels.cuh: device pointers, enqueue only, first error returned, zero-sized work is a no-op. Host-only header.
#ifndef NCOD_CUDA_DETECTOR_KERNELS_CUH
#define NCOD_CUDA_DETECTOR_KERNELS_CUH

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace ncod::cuda {

// out[i] = the logit score (kind 0 MSP, 1 MaxLogit, 2 Energy, 3 GEN, 4 Entropy, 5 fDBD sum, 6 argmax minus offset; see
// core/backend.h) of row i of z (rows×classes float32 row-major) plus bias (classes float32, or nullptr).
// table: device float64, classes×classes (kind 5) or classes (kind 6). One block per row; GEN ranks each
// probability against the row (O(C²/threads) per row) and only when top < classes.
cudaError_t launch_score_logits(const float* z, size_t rows, size_t classes, const float* bias, int kind,
                                double temperature, double gamma, size_t top, const double* table, double* out,
                                cudaStream_t stream);

// x[k] = min(x[k], clip) for k < n (ReAct).
cudaError_t launch_clip(float* x, size_t n, float clip, cudaStream_t stream);

// xs[i*d + j] = (double)x[i*d + j] − shift[j].
cudaError_t launch_shift_rows(const float* x, size_t rows, size_t d, const double* shift, double* xs,
                              cudaStream_t stream);

// out[i] = max(0, min_c ‖y_i‖² − 2 g[i*count + c] + centre_sq[c]) with y rows×p, g rows×count (float64).
cudaError_t launch_min_distances(const double* y, size_t rows, size_t p, const double* g, size_t count,
                                 const double* centre_sq, double* out, cudaStream_t stream);

// For each query i < rows: merges the similarities s[i*cols + j] (j < cols) into its min-heap heaps[i*k .. +k) of the
// k largest values seen so far (sizes[i] entries used; the caller zeroes sizes before the first tile).
cudaError_t launch_topk_update(const float* s, size_t rows, size_t cols, size_t k, float* heaps, uint32_t* sizes,
                               cudaStream_t stream);

// out[i] = heaps[i*k] (the heap top: the k-th largest similarity).
cudaError_t launch_topk_result(const float* heaps, size_t rows, size_t k, double* out, cudaStream_t stream);

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_DETECTOR_KERNELS_CUH
