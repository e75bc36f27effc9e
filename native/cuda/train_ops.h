// The plugin's training operations (ABI version 4, core/train_kernels.h) on the CUDA runtime: device memory for the
// addon's TrainKernels, and each kernel enqueued on the plugin's one stream. train_api.cpp calls these under its lock
// with the device selected; every failure throws Failure (runtime.h).
//
// Only the calls that hand something to the host wait for the stream: downloads, uploads (so the host buffer may be
// reused at once), and the two losses. Errors of earlier kernels surface at those waits.
#ifndef NCOD_CUDA_TRAIN_OPS_H
#define NCOD_CUDA_TRAIN_OPS_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "blas.h"
#include "runtime.h"

namespace ncod::cuda {

// Device scratch of the two loss calls, kept between calls and grown as needed. Both calls end with a stream
// synchronise, so no enqueued work still uses a scratch buffer when a later call reallocates it.
struct TrainScratch {
  DeviceBuffer row_loss, row_hit, hat, norms, gram, nbr, coef, grad_hat;
  std::vector<double> host_loss;
  std::vector<int32_t> host_hit;
  void release() noexcept;
};

struct TrainContext {
  cudaStream_t stream;
  Blas& blas;
  TrainScratch& scratch;
};

void* train_alloc(size_t bytes);
void train_free(cudaStream_t stream, void* p) noexcept;  // waits for the stream first: work may still use p
void train_upload(cudaStream_t stream, void* dst, const void* host_src, size_t bytes);
void train_download(cudaStream_t stream, void* host_dst, const void* src, size_t bytes);

void train_sgemm(const TrainContext& c, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A,
                 const float* B, float beta, float* C);
void train_bias_activation(const TrainContext& c, float* y, const float* bias, size_t rows, size_t cols, bool relu);
void train_activation_backward(const TrainContext& c, float* dy, const float* y, size_t rows, size_t cols, bool relu,
                               float* db);
void train_adamw(const TrainContext& c, float* p, const float* g, float* m, float* v, size_t n, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step);
void train_gather_rows(const TrainContext& c, const float* x, const int32_t* y, size_t rows, size_t dim,
                       const int32_t* order, size_t n, float* xb, int32_t* yb);
void train_add(const TrainContext& c, float* y, const float* x, size_t n);
void train_layer_norm_forward(const TrainContext& c, const float* x, const float* gamma, const float* beta, size_t rows,
                              size_t cols, bool relu, float* y, float* mean, float* rstd);
void train_layer_norm_backward(const TrainContext& c, const float* x, const float* mean, const float* rstd,
                               const float* gamma, const float* y, const float* dy, size_t rows, size_t cols, bool relu,
                               float* dx, float* dgamma, float* dbeta);
double train_cross_entropy_ls(const TrainContext& c, const float* logits, const int32_t* y, size_t rows,
                              size_t classes, double smoothing, float* dlogits, size_t* correct);
double train_nn_entropy(const TrainContext& c, const float* e, size_t rows, size_t d, double scale, float* de);
void train_etf_forward(const TrainContext& c, const float* e, size_t rows, size_t d, size_t h, float* hidden,
                       float* z);
void train_etf_backward(const TrainContext& c, const float* hidden, const float* z, const float* dz, size_t rows,
                        size_t d, size_t h, float* de);

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_TRAIN_OPS_H
