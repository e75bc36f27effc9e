// Small dense factorisations on the host (C×d, C×C and d×d matrices), whatever backend did the data passes.
// Implemented with LAPACK in native/cpu/lapack.cpp.
#pragma once

#include <cstddef>
#include <vector>

namespace ncod {

// Thin SVD of a column-major m×n matrix A = U diag(s) Vᵀ, k = min(m, n):
// s descending (k), u column-major m×k (column j contiguous at u[j·m]).
struct ThinSvd {
  std::vector<double> s;
  std::vector<double> u;
};
ThinSvd thin_svd(std::vector<double> a, size_t m, size_t n);

// Eigendecomposition of a symmetric n×n matrix A = V diag(w) Vᵀ (LAPACK dsyevd, reads the full matrix):
// w ascending (n), v column-major n×n (eigenvector j contiguous at v[j·n]).
struct SymmetricEigen {
  std::vector<double> w;
  std::vector<double> v;
};
SymmetricEigen symmetric_eigen(std::vector<double> a, size_t n);

// R of the QR factorisation A = Q R of a row-major n×n matrix (LAPACK dgeqrf), row-major upper triangular: since Q
// is orthogonal, ‖R z‖ = ‖A z‖ for every z.
std::vector<double> qr_upper(const std::vector<double>& a, size_t n);

}  // namespace ncod
