// TrainKernels of the CUDA backend: every call is one forward to the plugin's ABI (ncod_cuda_abi.h, train_*). Kernel memory is device memory
// the plugin allocates; the pointers are opaque here and only ever passed back to the plugin.
#include <memory>

#include "../cuda/ncod_cuda_abi.h"
#include "cuda_plugin.h"
#include "train_kernels.h"

namespace ncod {

namespace {

class CudaTrainKernels final : public TrainKernels {
 public:
  explicit CudaTrainKernels(const ncod_cuda_api* api) : api_(api) {}

  void* allocate(size_t bytes) override {
    void* p = nullptr;
    NCOD_CUDA_CALL(api_, train_alloc, bytes, &p);
    return p;
  }
  void release(void* p) noexcept override { api_->train_free(p); }
  void upload(void* dst, const void* host_src, size_t bytes) override {
    NCOD_CUDA_CALL(api_, train_upload, dst, host_src, bytes);
  }
  void download(void* host_dst, const void* src, size_t bytes) override {
    NCOD_CUDA_CALL(api_, train_download, host_dst, src, bytes);
  }

  void sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, const float* B, float beta,
             float* C) override {
    NCOD_CUDA_CALL(api_, train_sgemm, trans_a, trans_b, M, N, K, A, B, beta, C);
  }
  void bias_activation(float* Y, const float* bias, size_t rows, size_t cols, bool relu) override {
    NCOD_CUDA_CALL(api_, train_bias_activation, Y, bias, rows, cols, relu);
  }
  void activation_backward(float* dY, const float* Y, size_t rows, size_t cols, bool relu, float* db) override {
    NCOD_CUDA_CALL(api_, train_activation_backward, dY, Y, rows, cols, relu, db);
  }
  void adamw(float* p, const float* g, float* m, float* v, size_t count, const AdamWParams& hp, int64_t step) override {
    NCOD_CUDA_CALL(api_, train_adamw, p, g, m, v, count, &hp, step);  // AdamWParams is an ncod_cuda_adamw
  }
  void gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order, size_t count,
                   float* xb, int32_t* yb) override {
    NCOD_CUDA_CALL(api_, train_gather_rows, x, y, rows, dim, order, count, xb, yb);
  }
  void add(float* y, const float* x, size_t count) override {
    NCOD_CUDA_CALL(api_, train_add, y, x, count);
  }
  void layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows, size_t cols, bool relu,
                          float* y, float* mean, float* rstd) override {
    NCOD_CUDA_CALL(api_, train_layer_norm_forward, x, gamma, beta, rows, cols, relu, y, mean, rstd);
  }
  void layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma, const float* y,
                           const float* dy, size_t rows, size_t cols, bool relu, float* dx, float* dgamma,
                           float* dbeta) override {
    NCOD_CUDA_CALL(api_, train_layer_norm_backward, x, mean, rstd, gamma, y, dy, rows, cols, relu, dx, dgamma, dbeta);
  }
  double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps, float* dlogits,
                          size_t* correct) override {
    double loss = 0;
    NCOD_CUDA_CALL(api_, train_cross_entropy_ls, logits, y, B, K, eps, dlogits, &loss, correct);
    return loss;
  }
  double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de) override {
    double loss = 0;
    NCOD_CUDA_CALL(api_, train_nn_entropy, e, B, d, scale, de, &loss);
    return loss;
  }
  void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z) override {
    NCOD_CUDA_CALL(api_, train_etf_forward, e, B, d, h, hidden, z);
  }
  void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d, size_t h,
                              float* de) override {
    NCOD_CUDA_CALL(api_, train_etf_backward, hidden, z, dz, B, d, h, de);
  }

 private:
  const ncod_cuda_api* api_;
};

}  // namespace

std::unique_ptr<TrainKernels> make_cuda_train_kernels(const ncod_cuda_api* api) {
  return std::make_unique<CudaTrainKernels>(api);
}

}  // namespace ncod
