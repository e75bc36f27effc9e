// The Neural Collapse metric suite (METHOD.md §4): two passes over the features, no d×d matrix.
#pragma once

#include <cstddef>
#include <vector>

#include "backend.h"
#include "run_context.h"

namespace ncod {

struct NcInputs {
  LabelledRows data;
  size_t num_classes = 0;
  const float* weights = nullptr;  // C×d classifier weights, optional
  const float* bias = nullptr;     // C, optional (zero when weights are given without it)
  const float* ood = nullptr;      // ood_rows×d OOD features, optional
  size_t ood_rows = 0;
  bool weighted_global_mean = false;  // μ_G = sample-weighted mean instead of the mean of class means
  double rank_tolerance = -1;         // relative to the largest singular value of M̃; < 0: max(d, C)·ε
};

// Everything the data passes produce; the metrics are a function of this alone (in-memory and streaming alike).
struct NcSufficientStats {
  size_t n = 0, dim = 0, classes = 0;
  std::vector<double> counts;         // C
  std::vector<double> means;          // C×d
  std::vector<double> class_ss;       // C: Σ_{y_i = c} ‖x_i − μ_c‖²
  std::vector<double> global_mean;    // d
  std::vector<double> subspace;       // U: d×r column-major, the range of Σ_B
  std::vector<double> singular;       // r singular values of M̃
  std::vector<double> projected_ss;   // r: Σ_i ((x_i − μ_{y_i})·u_k)²
  double ncc_agreement = -1;          // fraction, or < 0 when not computed
  std::vector<double> ood_mean;       // d, empty without OOD features
};

struct NcMetrics {
  size_t n = 0, dim = 0, classes = 0, rank = 0;
  double nc1, nc1_quotient, nc1_cdnv, nc2_equinorm_means, nc2_equiangularity_means, nc2_etf_error_means;
  // NaN when the inputs they need were not given.
  double nc2_equinorm_weights, nc2_etf_error_weights, nc3_self_duality, nc3_papyan, nc4_ncc_agreement,
      nc4_bias_relation, nc5_ood_orthogonality;
  // From the centred means alone (nc_uniformity.h); NaN where undefined, UNC3 also without weights.
  double gnc2_hyperspherical_uniformity, unc3_uniform_duality;
};

NcMetrics compute_nc_metrics(Backend& backend, const NcInputs& inputs, const RunContext& context);

// Global mean, the subspace U of Σ_B's range and its singular values from counts and means.
void derive_subspace(Backend& backend, NcSufficientStats& stats, bool weighted_global_mean, double rank_tolerance);

// The metrics from sufficient statistics (+ the classifier when given: C×d weights, C bias).
NcMetrics assemble_nc_metrics(Backend& backend, const NcSufficientStats& stats, const double* weights,
                              const double* bias);

// NC4's second pass for streamed data, one batch at a time: how many of the rows have their nearest class mean
// (argmax_c 2x·μ_c − ‖μ_c‖², float64 means C×d) equal to the classifier's argmax (x Wᵀ + b); the first maximum wins
// in both, as in compute_nc_metrics. Rows are centred at the mean of the class means in float64 before the float32
// projections (the batch has no labels to centre at each row's own class mean as the in-memory pass does), so only
// near-ties (differences ~1e-7 of the scores) can be decided differently from ncMetrics.
size_t ncc_agreement_count(Backend& backend, const float* x, size_t rows, size_t dim, const double* means,
                           const float* weights, const float* bias, size_t classes, const RunContext& context);

// Checks shared by every NC entry point: C ≥ 2, classifier and OOD shapes and finiteness.
void check_nc_inputs(const NcInputs& inputs);

}  // namespace ncod
