// cuBLAS implementation of blas.h: the only translation unit that includes cublas_v2.h.
#include "blas.h"

#include <cublas_v2.h>

#include <string>

#include "runtime.h"

namespace ncod::cuda {
namespace {

cublasHandle_t as_handle(void* h) { return static_cast<cublasHandle_t>(h); }

cublasOperation_t as_op(Blas::Op op) { return op == Blas::Op::T ? CUBLAS_OP_T : CUBLAS_OP_N; }

// Throws "what: <status string> (cublasStatus_t N)" unless status is success.
void check_blas(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const char* text = cublasGetStatusString(status);
  fail(status == CUBLAS_STATUS_ALLOC_FAILED ? NCOD_CUDA_OUT_OF_MEMORY : NCOD_CUDA_DRIVER_ERROR,
       std::string(what) + ": " + (text != nullptr ? text : "unknown cuBLAS status") + " (cublasStatus_t " +
           std::to_string(static_cast<int>(status)) + ")");
}

void require_handle(void* handle, const char* what) {
  if (handle == nullptr) fail(NCOD_CUDA_INTERNAL_ERROR, std::string(what) + ": cuBLAS handle not created");
}

}  // namespace

Blas::~Blas() { destroy(); }

void Blas::create(cudaStream_t stream) {
  if (handle_ != nullptr) {
    check_blas(cublasSetStream(as_handle(handle_), stream), "cublasSetStream");
    return;
  }
  cublasHandle_t h = nullptr;
  check_blas(cublasCreate(&h), "cublasCreate");
  try {
    check_blas(cublasSetStream(h, stream), "cublasSetStream");
    // Host pointer mode is the default; set it anyway because dsyrk_accumulate passes alpha/beta from the host stack.
    check_blas(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
    // Default math: float32 GEMMs stay in float32 (no TF32 tensor-core rounding of the projections).
    check_blas(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  } catch (...) {
    cublasDestroy(h);
    throw;
  }
  handle_ = h;
}

void Blas::destroy() noexcept {
  if (handle_ != nullptr) {
    cublasDestroy(as_handle(handle_));  // status ignored: nothing useful to do on teardown
    handle_ = nullptr;
  }
}

void Blas::dsyrk_accumulate(int n, int k, const double* a, int lda, double beta, double* c, int ldc) {
  require_handle(handle_, "cublasDsyrk");
  const double alpha = 1.0;
  check_blas(cublasDsyrk(as_handle(handle_), CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, n, k, &alpha, a, lda, &beta, c, ldc),
             "cublasDsyrk");
}

void Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc) {
  sgemm(ta, tb, m, n, k, a, lda, b, ldb, 0.0f, c, ldc);
}

void Blas::sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta,
                 float* c, int ldc) {
  require_handle(handle_, "cublasSgemm");
  const float alpha = 1.0f;
  check_blas(cublasSgemm(as_handle(handle_), as_op(ta), as_op(tb), m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc),
             "cublasSgemm");
}

void Blas::dgemm(Op ta, Op tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
                 int ldc) {
  require_handle(handle_, "cublasDgemm");
  const double alpha = 1.0;
  const double beta = 0.0;
  check_blas(cublasDgemm(as_handle(handle_), as_op(ta), as_op(tb), m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc),
             "cublasDgemm");
}

}  // namespace ncod::cuda
