// Small dense factorisations on the host (C×d and C×C matrices), whatever backend did the data passes.
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

}  // namespace ncod
