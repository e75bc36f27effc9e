// Host launchers for the training kernels (train_kernels.cu). Same conventions as kernels.cuh: device pointers,
// enqueue only (never synchronise), the first error returned, zero-sized work is a no-op. Host-only header.
//
// Each kernel mirrors a CPU body: native/cpu/cpu_train_kernels.cpp (elementwise, bias, AdamW) and
// native/cpu/training.cpp (loss terms, ETF projector). Element formulas come from core/train_math.h, which both
// compile; per-row sums are float64 like the CPU's, reduced in a fixed order (results are deterministic, and differ
// from the CPU's sequential sums only by rounding).
#ifndef NCOD_CUDA_TRAIN_KERNELS_CUH
#define NCOD_CUDA_TRAIN_KERNELS_CUH

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "../core/train_math.h"

namespace ncod::cuda {

// y[r·cols + c] += bias[c], then ReLU when relu (a NaN stays NaN, as on the CPU).
cudaError_t launch_bias_activation(float* y, const float* bias, size_t rows, size_t cols, bool relu,
                                   cudaStream_t stream);

// dy[q] = 0 where !(y[q] > 0), for q < n.
cudaError_t launch_relu_mask(float* dy, const float* y, size_t n, cudaStream_t stream);

// out[c] = Σ_r a[r·cols + c], accumulated in float64 and rounded once (a's columns, e.g. a bias gradient).
cudaError_t launch_column_sums(const float* a, size_t rows, size_t cols, float* out, cudaStream_t stream);

// AdamW on n elements (train_math::adamw_update with the step's constants).
cudaError_t launch_adamw(float* p, const float* g, float* m, float* v, size_t n, const train_math::AdamWStep& step,
                         cudaStream_t stream);

// xb[i·dim + k] = x[order[i]·dim + k] and yb[i] = y[order[i]] for i < n. An index outside [0, rows) (the caller
// validates them) gives a zero row with label 0 instead of a read out of bounds.
cudaError_t launch_gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order,
                               size_t n, float* xb, int32_t* yb, cudaStream_t stream);

// y[q] += x[q] for q < n.
cudaError_t launch_add(float* y, const float* x, size_t n, cudaStream_t stream);

// LayerNorm (core/train_kernels.h), one block per row: y = γ·x̂ + β (then ReLU when relu), mean and rstd saved.
cudaError_t launch_layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows, size_t cols,
                                      bool relu, float* y, float* mean, float* rstd, cudaStream_t stream);
// Its backward: dx one block per row; dγ = Σ_rows g·x̂ and dβ = Σ_rows g by columns (float64, fixed order).
cudaError_t launch_layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma,
                                       const float* y, const float* dy, size_t rows, size_t cols, bool relu, float* dx,
                                       float* dgamma, float* dbeta, cudaStream_t stream);

// Label-smoothed cross-entropy, one block per row of logits (rows×classes): dlogits as the CPU's (divided by rows),
// row_loss[r] = lse − Σ_c target_c·z_c, row_hit[r] = 1 when the first maximal logit is the label. The caller adds the
// rows in order on the host, as the CPU does.
cudaError_t launch_cross_entropy_ls(const float* logits, const int32_t* y, size_t rows, size_t classes,
                                    double smoothing, float* dlogits, double* row_loss, int32_t* row_hit,
                                    cudaStream_t stream);

// The nearest-neighbour entropy in three launches around one float64 Gram product (cuBLAS, by the caller):
// 1. hat = e / max(‖e‖, ε) per row (float64), norms = ‖e‖.
cudaError_t launch_normalize_rows(const float* e, size_t rows, size_t d, double* hat, double* norms,
                                  cudaStream_t stream);
// 2. For each row i: nbr[i] = the first k ≠ i maximising gram[i·rows + k] (the CPU's tie rule); with
//    v = hat_i − hat_nbr + ε: row_loss[i] = −log(‖v‖ + ε) and coef[i] such that d(row loss / rows)/dv = coef·v.
//    Needs rows ≥ 2.
cudaError_t launch_nearest_neighbours(const double* hat, const double* gram, size_t rows, size_t d, int32_t* nbr,
                                      double* coef, double* row_loss, cudaStream_t stream);
// 3. de = scale·dL/de through the normalisation; grad_hat (rows×d float64) is scratch. Row r adds its terms in the
//    CPU's order: its own (i = r, +) and those of the rows i whose neighbour it is (−), by increasing i.
cudaError_t launch_nn_entropy_grad(const double* hat, const double* norms, const int32_t* nbr, const double* coef,
                                   size_t rows, size_t d, double scale, double* grad_hat, float* de,
                                   cudaStream_t stream);

// The frozen ETF projector of core/training.h, one block per row, O(d + h) per row by the layers' structure.
cudaError_t launch_etf_forward(const float* e, size_t rows, size_t d, size_t h, float* hidden, float* z,
                               cudaStream_t stream);
cudaError_t launch_etf_backward(const float* hidden, const float* z, const float* dz, size_t rows, size_t d, size_t h,
                                float* de, cudaStream_t stream);

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_TRAIN_KERNELS_CUH
