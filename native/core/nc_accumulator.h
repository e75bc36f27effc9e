// Streaming Neural Collapse statistics: add batches in one pass, merge partial states exactly, finalise
// to the same metrics as the in-memory route (except nc4_ncc_agreement, which needs the final means
// for every sample and so a second pass).
//
// State: float64 moments about a fixed shift K (the first batch's mean), so that merging is exact and
// cancellation is limited to the between/within ratio (harmless in float64).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "backend.h"
#include "nc_metrics.h"
#include "run_context.h"

namespace ncod {

struct NcAccumulatorState {
  size_t dim = 0, classes = 0;
  std::vector<double> shift;      // K (d); empty until the first batch
  std::vector<double> counts;     // C
  std::vector<double> sums;       // C×d: Σ_{y_i = c} (x_i − K)
  std::vector<double> sq_norms;   // C:   Σ_{y_i = c} ‖x_i − K‖²
  std::vector<double> scatter;    // d×d: Σ_i (x_i − K)(x_i − K)ᵀ
  double ood_count = 0;
  std::vector<double> ood_sums;   // d: Σ x_ood
};

class NcAccumulator {
 public:
  NcAccumulator(size_t dim, size_t classes);
  explicit NcAccumulator(NcAccumulatorState state);  // validated restore

  void add(Backend& backend, const LabelledRows& batch, const RunContext& context);
  void add_ood(Backend& backend, const float* x, size_t rows, const RunContext& context);
  // Reads the other state in place under both locks (no copy of its d×d scatter); std::scoped_lock orders them, so
  // a.merge(b) and b.merge(a) on two threads cannot deadlock.
  void merge(const NcAccumulator& other);
  NcAccumulatorState state() const;
  // fn(state) under the lock: lets a caller copy straight into its own buffers, or skip the scatter.
  template <typename Fn>
  void with_state(Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mutex_);
    fn(static_cast<const NcAccumulatorState&>(s_));
  }
  // Fixed at construction, so read without the lock (add() checks shapes with these, not with a copy of the state).
  size_t dim() const { return s_.dim; }
  size_t classes() const { return s_.classes; }
  // Bytes of the state's arrays (d×d scatter, C×d sums, ...): what the binding reports to V8 as external memory.
  static size_t state_bytes(size_t dim, size_t classes);
  // Checks context's cancel flag between stages; the SVD and eigensolvers inside cannot be interrupted.
  NcMetrics finalize(Backend& backend, const float* weights, const float* bias, bool weighted_global_mean,
                     double rank_tolerance, const RunContext& context) const;

 private:
  mutable std::mutex mutex_;
  NcAccumulatorState s_;
};

}  // namespace ncod
