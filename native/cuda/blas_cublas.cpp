// cuBLAS implementation of blas.h: the only translation unit that includes cublas_v2.h.
#include "blas.h"

#include <cublas_v2.h>

#include <string>

namespace ncod::cuda {
namespace {

cublasHandle_t as_handle(void* h) { return static_cast<cublasHandle_t>(h); }

cublasOperation_t as_op(Blas::Op op) { return op == Blas::Op::T ? CUBLAS_OP_T : CUBLAS_OP_N; }

void describe(std::string& err, const char* what, cublasStatus_t status) {
  const char* text = cublasGetStatusString(status);
  err = std::string(what) + ": " + (text != nullptr ? text : "unknown cuBLAS status") + " (cublasStatus_t " +
        std::to_string(static_cast<int>(status)) + ")";
  // The addon classifies failures whose message contains "out of memory" as allocation failures.
  if (status == CUBLAS_STATUS_ALLOC_FAILED) err += " [out of memory]";
}

}  // namespace

Blas::~Blas() { destroy(); }

bool Blas::create(cudaStream_t stream, std::string& err) {
  if (handle_ != nullptr) {
    const cublasStatus_t st = cublasSetStream(as_handle(handle_), stream);
    if (st != CUBLAS_STATUS_SUCCESS) {
      describe(err, "cublasSetStream", st);
      return false;
    }
    return true;
  }

  cublasHandle_t h = nullptr;
  cublasStatus_t st = cublasCreate(&h);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasCreate", st);
    return false;
  }
  st = cublasSetStream(h, stream);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasSetStream", st);
    cublasDestroy(h);
    return false;
  }
  // Host pointer mode is the default; set it anyway because dsyrk_accumulate passes alpha/beta from the host stack.
  st = cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasSetPointerMode", st);
    cublasDestroy(h);
    return false;
  }
  // Default math: float32 GEMMs stay in float32 (no TF32 tensor-core rounding of the projections).
  st = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasSetMathMode", st);
    cublasDestroy(h);
    return false;
  }
  handle_ = h;
  return true;
}

void Blas::destroy() noexcept {
  if (handle_ != nullptr) {
    cublasDestroy(as_handle(handle_));  // status ignored: nothing useful to do on teardown
    handle_ = nullptr;
  }
}

bool Blas::dsyrk_accumulate(int n, int k, const double* a, int lda, double beta, double* c, int ldc,
                            std::string& err) {
  if (handle_ == nullptr) {
    err = "cublasDsyrk: cuBLAS handle not created";
    return false;
  }
  const double alpha = 1.0;
  const cublasStatus_t st = cublasDsyrk(as_handle(handle_), CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, n, k, &alpha, a,
                                        lda, &beta, c, ldc);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasDsyrk", st);
    return false;
  }
  return true;
}

bool Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc, std::string& err) {
  return sgemm(ta, tb, m, n, k, a, lda, b, ldb, 0.0f, c, ldc, err);
}

bool Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta,
                 float* c, int ldc, std::string& err) {
  if (handle_ == nullptr) {
    err = "cublasSgemm: cuBLAS handle not created";
    return false;
  }
  const float alpha = 1.0f;
  const cublasStatus_t st =
      cublasSgemm(as_handle(handle_), as_op(ta), as_op(tb), m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasSgemm", st);
    return false;
  }
  return true;
}

bool Blas::dgemm(Op ta, Op tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
                 int ldc, std::string& err) {
  if (handle_ == nullptr) {
    err = "cublasDgemm: cuBLAS handle not created";
    return false;
  }
  const double alpha = 1.0;
  const double beta = 0.0;
  const cublasStatus_t st =
      cublasDgemm(as_handle(handle_), as_op(ta), as_op(tb), m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
  if (st != CUBLAS_STATUS_SUCCESS) {
    describe(err, "cublasDgemm", st);
    return false;
  }
  return true;
}

}  // namespace ncod::cuda
