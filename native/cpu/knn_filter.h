// Exact k-th largest similarity from cheap approximate ones. If every approximation s̃ is within ±eps of the exact
// similarity s, the true k largest all have s̃ >= t̃ − 2·eps, where t̃ is the k-th largest approximation; rows below
// that threshold can be dropped unseen, and the few survivors are recomputed exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ncod::cpu {

// One query's filter over a stream of (approximation, bank row) pairs.
class KthFilter {
 public:
  // k >= 1; eps bounds |s̃ − s| for every row, including the rounding of the threshold and of the recomputation.
  void reset(size_t k, float eps);

  // Rows whose approximation is below this can never be among the k largest (−inf until k rows were offered).
  float threshold() const { return threshold_; }

  // Offers bank row `row` with approximation v (rows below the threshold are ignored; callers test first).
  void offer(float v, size_t row);

  // Rows kept so far (at least the survivors): each costs a float64 dot product in kth_exact.
  size_t candidates() const { return candidates_.size(); }

  // The exact k-th largest similarity: the survivors' dot products with the query, in float64.
  double kth_exact(const float* query, const float* bank, size_t dim, std::vector<double>& scratch) const;

 private:
  struct Candidate {
    float approx;
    size_t row;
  };
  void compact();

  size_t k_ = 1;
  float two_eps_ = 0;
  float threshold_ = 0;
  std::vector<float> heap_;             // min-heap of the k largest approximations so far
  std::vector<Candidate> candidates_;   // every row offered at or above the threshold of its time
};

// Σ_j a_j b_j in float64 (each product exact, relative error of the sum < dim·2^-53).
double dot_float64(const float* a, const float* b, size_t dim);

}  // namespace ncod::cpu
