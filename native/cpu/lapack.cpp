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

namespace {

// LAPACK here takes 32-bit ints and indexes an n×n (or m×n) array with them: dims whose product passes 2^31 − 1
// would overflow inside it, so they are refused before the call.
int lapack_dims(const char* what, size_t m, size_t n) {
  constexpr size_t kMax = 2147483647;
  if (m > kMax || n > kMax || (n != 0 && m > kMax / n)) {
    fail(ErrorCode::Shape, what, "a matrix of at most 2^31 − 1 elements (LAPACK's 32-bit indices)",
         std::to_string(m) + " × " + std::to_string(n));
  }
  return static_cast<int>(m > n ? m : n);
}

// A workspace size from a LAPACK query: it must fit the int that LAPACK reads it back as.
int workspace_size(const char* what, double query) {
  if (!(query >= 0) || query > 2147483647.0) {
    fail(ErrorCode::Shape, what, "a LAPACK workspace of at most 2^31 − 1 elements", std::to_string(query));
  }
  return static_cast<int>(query);
}

}  // namespace

SymmetricEigen symmetric_eigen(std::vector<double> a, size_t n) {
  const int N = lapack_dims("eigendecomposition (LAPACK dsyevd)", n, n);
  SymmetricEigen out;
  out.w.resize(n);
  const char jobz = 'V', uplo = 'U';
  int info = 0, lwork = -1, liwork = -1, iquery = 0;
  double query = 0;
  dsyevd_(&jobz, &uplo, &N, a.data(), &N, out.w.data(), &query, &lwork, &iquery, &liwork, &info);
  lwork = workspace_size("eigendecomposition (LAPACK dsyevd)", query);
  if (iquery < 0) fail(ErrorCode::Shape, "eigendecomposition (LAPACK dsyevd)", "an integer workspace size", std::to_string(iquery));
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
  const int N = lapack_dims("QR factorisation (LAPACK dgeqrf)", n, n);
  std::vector<double> col(n * n);  // column-major A
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) col[j * n + i] = a[i * n + j];
  std::vector<double> tau(n);
  int info = 0, lwork = -1;
  double query = 0;
  dgeqrf_(&N, &N, col.data(), &N, tau.data(), &query, &lwork, &info);
  lwork = workspace_size("QR factorisation (LAPACK dgeqrf)", query);
  std::vector<double> work(static_cast<size_t>(lwork > 1 ? lwork : 1));
  dgeqrf_(&N, &N, col.data(), &N, tau.data(), work.data(), &lwork, &info);
  if (info != 0) fail(ErrorCode::Backend, "QR factorisation (LAPACK dgeqrf)", "success", "info = " + std::to_string(info));
  std::vector<double> r(n * n, 0.0);  // R: the upper triangle of the result
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) r[i * n + j] = col[j * n + i];
  return r;
}

ThinSvd thin_svd(std::vector<double> a, size_t m, size_t n) {
  lapack_dims("SVD of the class means (LAPACK dgesdd)", m, n);
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
  lwork = workspace_size("SVD of the class means (LAPACK dgesdd)", query);
  std::vector<double> work(static_cast<size_t>(lwork > 1 ? lwork : 1));
  dgesdd_(&jobz, &M, &N, a.data(), &M, out.s.data(), out.u.data(), &M, vt.data(), &K, work.data(), &lwork,
          iwork.data(), &info);
  if (info != 0) {
    fail(ErrorCode::Backend, "SVD of the class means (LAPACK dgesdd)", "convergence", "info = " + std::to_string(info));
  }
  return out;
}

}  // namespace ncod
