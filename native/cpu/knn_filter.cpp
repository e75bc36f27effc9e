#include "knn_filter.h"

#include "simd.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "../core/error.h"

namespace ncod::cpu {

void KthFilter::reset(size_t k, float eps) {
  k_ = k;
  two_eps_ = 2 * eps;
  threshold_ = -std::numeric_limits<float>::infinity();
  heap_.clear();
  heap_.reserve(k);
  candidates_.clear();
  candidates_.reserve(std::max<size_t>(4 * k, 256));
}

void KthFilter::offer(float v, size_t row) {
  if (!(v >= threshold_)) return;
  if (candidates_.size() == candidates_.capacity()) compact();
  candidates_.push_back({v, row});
  if (heap_.size() < k_) {
    heap_.push_back(v);
    std::push_heap(heap_.begin(), heap_.end(), std::greater<float>());
    if (heap_.size() < k_) return;
  } else if (v > heap_.front()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<float>());
    heap_.back() = v;
    std::push_heap(heap_.begin(), heap_.end(), std::greater<float>());
  } else {
    return;
  }
  threshold_ = heap_.front() - two_eps_;  // only rises
}

// Drops the rows the risen threshold excludes; grows the buffer when most rows survive (many near-ties).
void KthFilter::compact() {
  const float t = threshold_;
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(), [t](const Candidate& c) { return c.approx < t; }),
                    candidates_.end());
  if (candidates_.size() * 2 > candidates_.capacity()) candidates_.reserve(candidates_.capacity() * 2);
}

double KthFilter::kth_exact(const float* query, const float* bank, size_t dim, std::vector<double>& scratch) const {
  scratch.clear();
  constexpr size_t kAhead = 4;  // survivors are scattered bank rows: fetch a few ahead, or each waits on memory
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (i + kAhead < candidates_.size() && candidates_[i + kAhead].approx >= threshold_) {
      const char* row = reinterpret_cast<const char*>(bank + candidates_[i + kAhead].row * dim);
      for (size_t b = 0; b < dim * sizeof(float); b += 64) __builtin_prefetch(row + b);
    }
    const Candidate& c = candidates_[i];
    if (c.approx >= threshold_) scratch.push_back(dot_float64(query, bank + c.row * dim, dim));
  }
  // At least k survive: the rows holding the k largest approximations are never below the threshold (for finite
  // inputs, which the callers check; anything else must not index past the survivors).
  if (scratch.size() < k_) {
    fail(ErrorCode::NotFinite, "k-NN similarities", "at least k = " + std::to_string(k_) + " comparable values",
         std::to_string(scratch.size()) + " (NaN in the query or the bank)");
  }
  std::nth_element(scratch.begin(), scratch.begin() + (k_ - 1), scratch.end(), std::greater<double>());
  return scratch[k_ - 1];
}

// Wide vectors at the SIMD level in use (simd.h): the survivors' products are a tenth of the KNN time.
NCOD_INLINE_BODY double dot_float64_body(const float* a, const float* b, size_t dim) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t j = 0; j < dim; ++j) s += double(a[j]) * double(b[j]);
  return s;
}
NCOD_LEVEL_VARIANTS(double, dot_float64, (const float* a, const float* b, size_t dim), (a, b, dim))
double dot_float64(const float* a, const float* b, size_t dim) { return dot_float64_variant(a, b, dim); }

}  // namespace ncod::cpu
