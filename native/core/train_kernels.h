// The kernels a backend provides for training (float32, row-major). Every pointer the kernels take is kernel memory:
// allocated by allocate() (device memory on a GPU, host memory on the CPU) and filled by upload(). The orchestration
// (core/mlp.cpp) keeps parameters, moments, the dataset and all activations there for a whole epoch, so a GPU backend
// copies to and from the host only at the start and end of a call, plus the two loss values of each step.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../cuda/ncod_cuda_abi.h"  // plain C

namespace ncod {

// The fields {lr, beta1, beta2, eps, weight_decay} are the plugin ABI's ncod_cuda_adamw, declared there once; this
// adds the defaults.
struct AdamWParams : ncod_cuda_adamw {
  constexpr AdamWParams(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                        double weight_decay = 0.05)
      : ncod_cuda_adamw{lr, beta1, beta2, eps, weight_decay} {}
};

class TrainKernels {
 public:
  virtual ~TrainKernels() = default;

  // ---- Memory. allocate throws Error(OutOfMemory) (or std::bad_alloc) on failure; release accepts nullptr.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  // Copies bytes between host memory and kernel memory; returns when the host side may be reused or read.
  virtual void upload(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, size_t bytes) = 0;
  // True when kernel memory is host memory, so read-only host arrays (the dataset) can be used without a copy.
  virtual bool kernel_memory_is_host() const { return false; }

  // ---- Kernels.
  // C (M×N) = op(A)·op(B) + beta·C, op(A) M×K, op(B) K×N.
  virtual void sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, const float* B,
                     float beta, float* C) = 0;
  // Y (rows×cols) += bias (per column), then ReLU in place when relu.
  virtual void bias_activation(float* Y, const float* bias, size_t rows, size_t cols, bool relu) = 0;
  // dY *= [Y > 0] when relu; db = Σ_rows dY.
  virtual void activation_backward(float* dY, const float* Y, size_t rows, size_t cols, bool relu, float* db) = 0;
  // PyTorch's AdamW: p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps), moments m, v updated in place; step ≥ 1.
  virtual void adamw(float* p, const float* g, float* m, float* v, size_t n, const AdamWParams& hp, int64_t step) = 0;
  // Row i of xb (n×dim) = row order[i] of x (rows×dim), yb[i] = y[order[i]]: one batch from a dataset held in kernel
  // memory. Indices are validated by the caller; one outside [0, rows) gives a zero row with label 0.
  virtual void gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order, size_t n,
                           float* xb, int32_t* yb) = 0;
  // y += x (n elements).
  virtual void add(float* y, const float* x, size_t n) = 0;
  // core/training.h cross_entropy_ls; *correct = rows whose first maximal logit is the label.
  virtual double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps,
                                  float* dlogits, size_t* correct) = 0;
  // LayerNorm of each row of x (rows×cols) then y = γ·x̂ + β, then ReLU when relu: x̂ = (x − mean)·rstd with
  // rstd = 1/√(var + 1e-5) (biased variance, as torch.nn.LayerNorm); mean and rstd (rows) are saved for backward.
  virtual void layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows, size_t cols,
                                  bool relu, float* y, float* mean, float* rstd) = 0;
  // Given x, the saved mean/rstd, γ, the forward output y and dy = dL/dy: dx, dγ = Σ_rows g·x̂ and dβ = Σ_rows g, with
  // g = dy·[y > 0] when relu, else dy.
  virtual void layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma,
                                   const float* y, const float* dy, size_t rows, size_t cols, bool relu, float* dx,
                                   float* dgamma, float* dbeta) = 0;
  // core/training.h for these three.
  virtual double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de) = 0;
  virtual void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z) = 0;
  virtual void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d,
                                      size_t h, float* de) = 0;
};

}  // namespace ncod
