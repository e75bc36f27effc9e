// LAPACK (from OpenBLAS) for the small factorisations of core/linalg.h.
#include <string>

#include "../core/error.h"
#include "../core/linalg.h"

extern "C" void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
                        const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork,
                        int* info);

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

extern "C" void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
                        const int* lwork, int* info);

namespace ncod {

SymmetricEigen symmetric_eigen(std::vector<double> a, size_t n) {
  const int N = static_cast<int>(n);
  SymmetricEigen out;
  out.w.resize(n);
  const char jobz = 'V', uplo = 'U';
  int info = 0, lwork = -1, liwork = -1, iquery = 0;
  double query = 0;
  dsyevd_(&jobz, &uplo, &N, a.data(), &N, out.w.data(), &query, &lwork, &iquery, &liwork, &info);
  lwork = static_cast<int>(query);
  liwork = iquery;
  std::vector<double> work(static_cast<size_t>(lwork > 1 ? lwork : 1));
  std::vector<int> iwork(static_cast<size_t>(liwork > 1 ? liwork : 1));
  dsyevd_(&jobz, &uplo, &N, a.data(), &N, out.w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0) {
    fail(ErrorCode::Backend, "eigendecomposition of a covariance (LAPACK dsyevd)", "convergence",
         "info = " + std::to_string(info));
  }
  out.v = std::move(a);  // dsyevd overwrites A with the eigenvectors
  return out;
}

std::vector<double> qr_upper(const std::vector<double>& a, size_t n) {
  const int N = static_cast<int>(n);
  std::vector<double> col(n * n);  // column-major A
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) col[j * n + i] = a[i * n + j];
  std::vector<double> tau(n);
  int info = 0, lwork = -1;
  double query = 0;
  dgeqrf_(&N, &N, col.data(), &N, tau.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(static_cast<size_t>(lwork > 1 ? lwork : 1));
  dgeqrf_(&N, &N, col.data(), &N, tau.data(), work.data(), &lwork, &info);
  if (info != 0) fail(ErrorCode::Backend, "QR factorisation (LAPACK dgeqrf)", "success", "info = " + std::to_string(info));
  std::vector<double> r(n * n, 0.0);  // R: the upper triangle of the result
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) r[i * n + j] = col[j * n + i];
  return r;
}

ThinSvd thin_svd(std::vector<double> a, size_t m, size_t n) {
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(m < n ? m : n);
  ThinSvd out;
  out.s.resize(K);
  out.u.resize(m * K);
  std::vector<double> vt(size_t(K) * n);
  std::vector<int> iwork(8 * size_t(K));
  const char jobz = 'S';
  int info = 0, lwork = -1;
  double query = 0;
  dgesdd_(&jobz, &M, &N, a.data(), &M, out.s.data(), out.u.data(), &M, vt.data(), &K, &query, &lwork, iwork.data(),
          &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(static_cast<size_t>(lwork > 1 ? lwork : 1));
  dgesdd_(&jobz, &M, &N, a.data(), &M, out.s.data(), out.u.data(), &M, vt.data(), &K, work.data(), &lwork,
          iwork.data(), &info);
  if (info != 0) {
    fail(ErrorCode::Backend, "SVD of the class means (LAPACK dgesdd)", "convergence", "info = " + std::to_string(info));
  }
  return out;
}

}  // namespace ncod
