// The plugin's only view of cuBLAS. blas_cublas.cpp is the one file that includes cublas_v2.h; everything else
// (the plugin's other host sources) builds against this header with the CUDA runtime headers alone.
#ifndef NCOD_CUDA_BLAS_H
#define NCOD_CUDA_BLAS_H

#include <cuda_runtime_api.h>  // cudaStream_t


namespace ncod::cuda {

// Owns one cuBLAS handle bound to one stream. Not thread-safe on its own: the plugin serialises all use with its
// mutex. Methods throw Failure (runtime.h) "what failed: <cuBLAS status string>", NCOD_CUDA_OUT_OF_MEMORY for
// CUBLAS_STATUS_ALLOC_FAILED and NCOD_CUDA_DRIVER_ERROR otherwise.
class Blas {
 public:
  Blas() = default;
  ~Blas();  // calls destroy()
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;

  // Creates the handle on the current device, binds it to stream and selects host pointer mode (alpha/beta are host
  // scalars). Calling it again while a handle exists only re-binds the stream.
  void create(cudaStream_t stream);

  // Destroys the handle, if any. Safe to call repeatedly.
  void destroy() noexcept;

  bool valid() const noexcept { return handle_ != nullptr; }

  // C = A·Aᵀ + beta·C on the stream, touching only the UPPER triangle of C (cublasDsyrk, CUBLAS_FILL_MODE_UPPER,
  // CUBLAS_OP_N, alpha = 1). Column-major: A is n×k with leading dimension lda >= n, C is n×n with ldc >= n, both
  // device pointers. beta == 0 means C is not read (it may hold NaN poison). Requires n >= 1 and k >= 1.
  //
  // For a row-major rows×d matrix z (which is column-major d×rows with leading dimension d), pass n = d, k = rows,
  // lda = d to get C += zᵀz.
  void dsyrk_accumulate(int n, int k, const double* a, int lda, double beta, double* c, int ldc);

  enum class Op { N, T };  // CUBLAS_OP_N / CUBLAS_OP_T

  // C = op(A)·op(B) (alpha = 1, beta = 0: C is not read), column-major, on the stream. C is m×n (ldc >= m),
  // op(A) is m×k, op(B) is k×n; requires m, n, k >= 1. sgemm uses cuBLAS's default math mode (no TF32).
  void sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc);
  // C = op(A)·op(B) + beta·C (C is read unless beta == 0); otherwise as above.
  void sgemm(Op ta, Op tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* c,
             int ldc);
  void dgemm(Op ta, Op tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
             int ldc);

 private:
  void* handle_ = nullptr;  // a cublasHandle_t, kept opaque so this header needs no cuBLAS types
};

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_BLAS_H
