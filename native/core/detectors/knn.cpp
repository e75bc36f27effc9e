// KNN (Sun et al. 2022): the normalised bank (KnnBank) and its scores over the Backend's k-th-similarity kernel.
#include "knn_bank.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../checks.h"
#include "../chunks.h"
#include "../detectors.h"
#include "../error.h"

namespace ncod {

std::vector<float> l2_normalised(const char* what, const float* x, size_t rows, size_t dim) {
  check_finite(what, x, rows, dim);
  std::vector<float> out(rows * dim);
  for (size_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    double s = 0;
    for (size_t j = 0; j < dim; ++j) s += double(xi[j]) * xi[j];
    const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    for (size_t j = 0; j < dim; ++j) out[i * dim + j] = static_cast<float>(xi[j] * inv);
  }
  return out;
}

KnnBank::KnnBank(size_t dim) : dim_(dim) {
  if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
}

size_t KnnBank::rows() const {
  std::shared_lock lock(bank_mutex_);
  return data_.size() / dim_;
}

size_t KnnBank::bytes() const {
  std::shared_lock lock(bank_mutex_);
  return data_.capacity() * sizeof(float);
}

void KnnBank::append(const float* x, size_t rows, bool normalise, const RunContext& context) {
  check_finite("features", x, rows, dim_);  // once over the batch, so a bad element's index is its row's own
  std::vector<float> normalised(x, x + (normalise ? 0 : rows * dim_));
  if (normalise) {
    normalised.resize(rows * dim_);
    // In bounded chunks, so that an abort is seen between them (the bank is unchanged until the end).
    for_each_row_range(rows, dim_, context, 0.0, 1.0, [&](size_t start, size_t n) {
      const std::vector<float> part = l2_normalised("features", x + start * dim_, n, dim_);
      std::copy(part.begin(), part.end(), normalised.begin() + start * dim_);
    });
  }
  std::unique_lock lock(bank_mutex_);
  prepared_.reset();  // it borrows data_, which may move
  data_.insert(data_.end(), normalised.begin(), normalised.end());
}

void KnnBank::reserve(size_t rows) {
  if (rows > (size_t(1) << 40) / dim_) fail(ErrorCode::InvalidArgument, "rows", "at most 2^40 elements in all", std::to_string(rows) + " rows");
  std::unique_lock lock(bank_mutex_);
  prepared_.reset();  // it borrows data_, which may move
  data_.reserve(data_.size() + rows * dim_);
}

void KnnBank::check_k(size_t k) const {
  const size_t n = rows();
  if (k < 1 || k > n)
    fail(ErrorCode::InvalidArgument, "k", "an integer in [1, " + std::to_string(n) + "] (the fit set size)", std::to_string(k));
}

std::vector<double> KnnBank::scores(BackendKind backend, const float* x, size_t rows, size_t k, const RunContext& context) {
  std::shared_lock lock(bank_mutex_);
  const size_t bank_rows = data_.size() / dim_;
  if (k < 1 || k > bank_rows) {
    lock.unlock();
    check_k(k);
  }
  check_finite("features", x, rows, dim_);
  // Stays valid: only append and reserve drop it, and they wait for this shared lock.
  PreparedKnnBank& prepared = prepared_.get(
      backend, [&](Backend& b) { return b.prepare_knn_bank(data_.data(), bank_rows, dim_); });
  std::vector<double> out(rows);
  for_each_row_range(rows, dim_, context, 0.0, 1.0, [&](size_t start, size_t n) {
    const std::vector<float> q = l2_normalised("features", x + start * dim_, n, dim_);
    prepared.kth_similarity(q.data(), n, k, out.data() + start, context);
  });
  return out;
}

namespace {
void check_range_within(size_t n, size_t start, size_t count) {
  if (start > n || count > n - start)
    fail(ErrorCode::InvalidArgument, "rows", "a range within the bank's " + std::to_string(n) + " rows",
         "[" + std::to_string(start) + ", " + std::to_string(start) + " + " + std::to_string(count) + ")");
}
}  // namespace

void KnnBank::check_range(size_t start, size_t count) const { check_range_within(rows(), start, count); }

void KnnBank::copy_rows(size_t start, size_t count, float* out) const {
  std::shared_lock lock(bank_mutex_);
  check_range_within(data_.size() / dim_, start, count);
  std::copy_n(data_.begin() + start * dim_, count * dim_, out);
}

}  // namespace ncod
