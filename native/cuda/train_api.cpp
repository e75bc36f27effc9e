// The training glue (ABI version 4, core/train_kernels.h): each entry point selects the device and forwards to
// train_ops.cpp, which does the work.
#include <cuda_runtime.h>

#include "entry_points.h"
#include "plugin_state.h"
#include "train_ops.h"

namespace ops = ncod::cuda;
using ncod::cuda::fail;
using ncod::cuda::guarded;
using ncod::cuda::State;

namespace {

// The stream, cuBLAS handle and scratch of the training operations, after selecting the device.
ops::TrainContext train_context(State& s) {
  ops::init_locked(s);
  return ops::TrainContext{s.stream, s.blas, s.train};
}

}  // namespace

extern "C" {

int ncod_cuda_train_alloc(size_t bytes, void** out, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (out == nullptr) fail("train_alloc: null out pointer");
    ops::init_locked(s);
    *out = ops::train_alloc(bytes);
  });
}

void ncod_cuda_train_free(void* p) {
  if (p == nullptr) return;
  ncod::cuda::guarded_void([&](State& s) {
    if (s.ready) (void)cudaSetDevice(s.device);
    ops::train_free(s.stream, p);
  });
}

int ncod_cuda_train_upload(void* dst, const void* host_src, size_t bytes, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_upload(train_context(s).stream, dst, host_src, bytes); });
}

int ncod_cuda_train_download(void* host_dst, const void* src, size_t bytes, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_download(train_context(s).stream, host_dst, src, bytes); });
}

int ncod_cuda_train_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float* a, const float* b,
                                 float beta, float* c, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_sgemm(train_context(s), trans_a != 0, trans_b != 0, m, n, k, a, b, beta, c); });
}

int ncod_cuda_train_bias_activation(float* y, const float* bias, size_t rows, size_t cols, int relu, char* err,
                                           size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_bias_activation(train_context(s), y, bias, rows, cols, relu != 0); });
}

int ncod_cuda_train_activation_backward(float* dy, const float* y, size_t rows, size_t cols, int relu, float* db,
                                               char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_activation_backward(train_context(s), dy, y, rows, cols, relu != 0, db);
  });
}

int ncod_cuda_train_adamw(float* p, const float* g, float* m, float* v, size_t n, const ncod_cuda_adamw* hp,
                                 int64_t step, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (hp == nullptr) fail("train_adamw: null hyper-parameters");
    ops::train_adamw(train_context(s), p, g, m, v, n, hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, step);
  });
}

int ncod_cuda_train_gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order,
                                       size_t n, float* xb, int32_t* yb, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_gather_rows(train_context(s), x, y, rows, dim, order, n, xb, yb); });
}

int ncod_cuda_train_add(float* y, const float* x, size_t n, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_add(train_context(s), y, x, n); });
}

int ncod_cuda_train_layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows,
                                              size_t cols, int relu, float* y, float* mean, float* rstd, char* err,
                                              size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_layer_norm_forward(train_context(s), x, gamma, beta, rows, cols, relu != 0, y, mean, rstd);
  });
}

int ncod_cuda_train_layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma,
                                               const float* y, const float* dy, size_t rows, size_t cols, int relu,
                                               float* dx, float* dgamma, float* dbeta, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    ops::train_layer_norm_backward(train_context(s), x, mean, rstd, gamma, y, dy, rows, cols, relu != 0, dx, dgamma,
                                   dbeta);
  });
}

int ncod_cuda_train_cross_entropy_ls(const float* logits, const int32_t* y, size_t rows, size_t classes,
                                            double smoothing, float* dlogits, double* loss, size_t* correct, char* err,
                                            size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (loss == nullptr) fail("train_cross_entropy_ls: null loss pointer");
    *loss = ops::train_cross_entropy_ls(train_context(s), logits, y, rows, classes, smoothing, dlogits, correct);
  });
}

int ncod_cuda_train_nn_entropy(const float* e, size_t rows, size_t d, double scale, float* de, double* loss,
                                      char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) {
    if (loss == nullptr) fail("train_nn_entropy: null loss pointer");
    *loss = ops::train_nn_entropy(train_context(s), e, rows, d, scale, de);
  });
}

int ncod_cuda_train_etf_forward(const float* e, size_t rows, size_t d, size_t h, float* hidden, float* z,
                                       char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ops::train_etf_forward(train_context(s), e, rows, d, h, hidden, z); });
}

int ncod_cuda_train_etf_backward(const float* hidden, const float* z, const float* dz, size_t rows, size_t d,
                                        size_t h, float* de, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ops::train_etf_backward(train_context(s), hidden, z, dz, rows, d, h, de); });
}

}  // extern "C"
