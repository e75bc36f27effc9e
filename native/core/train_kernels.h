// The kernels a backend provides for training (float32, row-major, host memory for now).
// The CPU backend implements them; the CUDA plugin does not yet (training there needs device-resident state).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ncod {

struct AdamWParams {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.05;
};

class TrainKernels {
 public:
  virtual ~TrainKernels() = default;
  // C (M×N) = op(A)·op(B) + beta·C, op(A) M×K, op(B) K×N.
  virtual void sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, const float* B,
                     float beta, float* C) = 0;
  // Y (rows×cols) += bias (per column), then ReLU in place when relu.
  virtual void bias_activation(float* Y, const float* bias, size_t rows, size_t cols, bool relu) = 0;
  // dY *= [Y > 0] when relu; db = Σ_rows dY.
  virtual void activation_backward(float* dY, const float* Y, size_t rows, size_t cols, bool relu, float* db) = 0;
  // PyTorch's AdamW: p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps), moments m, v updated in place; step ≥ 1.
  virtual void adamw(float* p, const float* g, float* m, float* v, size_t n, const AdamWParams& hp, int64_t step) = 0;
  virtual double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps,
                                  float* dlogits) = 0;
  virtual double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de) = 0;
  virtual void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z) = 0;
  virtual void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d,
                                      size_t h, float* de) = 0;
};

}  // namespace ncod
