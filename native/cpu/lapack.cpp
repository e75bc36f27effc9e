// LAPACK (from OpenBLAS) for the small factorisations of core/linalg.h.
#include <string>

#include "../core/error.h"
#include "../core/linalg.h"

extern "C" void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
                        const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork,
                        int* info);

namespace ncod {

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
