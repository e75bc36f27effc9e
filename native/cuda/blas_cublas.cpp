// cuBLAS implementation of blas.h: the only translation unit that includes cublas_v2.h.
#include "blas.h"

#include <cublas_v2.h>

#include <string>

namespace ncod::cuda {
namespace {

cublasHandle_t as_handle(void* h) { return static_cast<cublasHandle_t>(h); }

void describe(std::string& err, const char* what, cublasStatus_t status) {
  const char* text = cublasGetStatusString(status);
  err = std::string(what) + ": " + (text != nullptr ? text : "unknown cuBLAS status") + " (cublasStatus_t " +
        std::to_string(static_cast<int>(status)) + ")";
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

}  // namespace ncod::cuda
