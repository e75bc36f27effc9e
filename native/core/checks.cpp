#include "checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "error.h"

namespace ncod {

void check_matrix_length(const char* what, size_t length, size_t rows, size_t dim) {
  if (rows == 0 || dim == 0) {
    fail(ErrorCode::Shape, what, "at least one row and one column",
         std::to_string(rows) + " rows × " + std::to_string(dim) + " columns");
  }
  // BLAS takes dims and leading dimensions as 32-bit ints.
  if (dim > 2147483647) fail(ErrorCode::Shape, what, "at most 2^31 − 1 columns (BLAS's 32-bit dims)", std::to_string(dim) + " columns");
  if (length / dim != rows || length % dim != 0) {
    fail(ErrorCode::Shape, what, std::to_string(rows) + " × " + std::to_string(dim) + " elements",
         std::to_string(length) + " elements");
  }
}

void check_positive(const char* what, double value) {
  if (!(value > 0)) fail(ErrorCode::InvalidArgument, what, "a positive number", std::to_string(value));
}

void check_labels(const int32_t* labels, size_t n, size_t num_classes, const char* what) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t y = labels[i];
    if (y < 0 || static_cast<size_t>(y) >= num_classes) {
      fail(ErrorCode::LabelRange, std::string(what) + "[" + std::to_string(i) + "]",
           "an integer in [0, " + std::to_string(num_classes) + ")", std::to_string(y));
    }
  }
}

void check_label_count(size_t labels, size_t rows) {
  if (labels != rows) {
    fail(ErrorCode::Shape, "labels", std::to_string(rows) + " labels (one per row)", std::to_string(labels));
  }
}

// The exponent bits of a float/double: all ones exactly for ±inf and NaN.
template <typename T>
struct ExponentBits;
template <>
struct ExponentBits<float> {
  using Bits = uint32_t;
  static constexpr Bits mask = 0x7f800000u;
};
template <>
struct ExponentBits<double> {
  using Bits = uint64_t;
  static constexpr Bits mask = 0x7ff0000000000000u;
};

template <typename T>
static void check_finite_impl(const char* what, const T* x, size_t rows, size_t dim) {
  using E = ExponentBits<T>;
  const size_t n = rows * dim;
  constexpr size_t kBlock = 4096;  // an integer OR over a block vectorises; only a bad block is searched
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    typename E::Bits bad = 0;  // a count: a sum vectorises where a bool OR does not
    for (size_t k = start; k < end; ++k) {
      typename E::Bits b;
      std::memcpy(&b, x + k, sizeof b);
      bad += (b & E::mask) == E::mask;
    }
    for (size_t k = start; bad != 0 && k < end; ++k) {
      if (!std::isfinite(x[k])) {
        fail(ErrorCode::NotFinite, std::string(what) + "[" + std::to_string(k / dim) + ", " +
                                       std::to_string(k % dim) + "]",
             "a finite number", std::to_string(x[k]));
      }
    }
  }
}

void check_finite(const char* what, const float* x, size_t rows, size_t dim) {
  check_finite_impl(what, x, rows, dim);
}
void check_finite(const char* what, const double* x, size_t rows, size_t dim) {
  check_finite_impl(what, x, rows, dim);
}

}  // namespace ncod
