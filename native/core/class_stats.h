// Per-class counts, float64 sums and means, and the pooled within-class scatter, in streamed chunks.
#pragma once

#include <cstddef>
#include <vector>

#include "backend.h"
#include "run_context.h"

namespace ncod {

struct ClassStatsOptions {
  size_t num_classes = 0;
  bool with_scatter = false;        // the d×d scatter costs O(N·d²); means alone are bandwidth-bound
  bool allow_empty_classes = false; // otherwise a class without samples is ERR_EMPTY_CLASS
  const char* what = "features";    // names the input in error messages
};

struct ClassStats {
  size_t num_classes = 0;
  size_t dim = 0;
  std::vector<double> counts;   // C
  std::vector<double> sums;     // C×d
  std::vector<double> means;    // C×d (NaN rows for empty classes when allowed)
  std::vector<double> scatter;  // d×d, Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ; empty unless requested
};

ClassStats compute_class_stats(Backend& backend, const LabelledRows& data, const ClassStatsOptions& options,
                               const RunContext& context);

}  // namespace ncod
