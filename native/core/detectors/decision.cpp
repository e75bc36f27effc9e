// Decision-boundary detectors (fDBD, NCI): a per-class table from the head, then one head_scores pass and the
// per-row ratio to ‖x − μ‖.
#include "../detectors.h"

#include <cmath>
#include <string>
#include <vector>

#include "../checks.h"
#include "../chunks.h"
#include "../class_stats.h"
#include "../error.h"
#include "../linalg.h"
#include "fitted_head.h"

namespace ncod {

std::vector<double> decision_scores(BackendKind backend, const float* x, size_t rows, FittedHead& fitted,
                                    const double* mean, DecisionScore kind, double alpha, const RunContext& context) {
  const LinearHead& head = fitted.head();
  const size_t C = head.classes, dim = fitted.dim();
  check_finite("mean", mean, 1, dim);
  if (!std::isfinite(alpha)) fail(ErrorCode::InvalidArgument, "alpha", "a finite number", std::to_string(alpha));
  std::vector<double> offsets;
  LogitScoreSpec spec;
  if (kind == DecisionScore::Fdbd) {
    spec.table = fitted.inverse_pair_distances(backend).data();  // C×C, computed once per head and backend
    spec.kind = LogitScore::FdbdSum;
  } else {
    offsets.resize(C);  // z_c − offsets[c] = w_c·(x − μ)
    for (size_t c = 0; c < C; ++c) {
      double s = head.bias ? double(head.bias[c]) : 0.0;
      for (size_t j = 0; j < dim; ++j) s += double(head.weights[c * dim + j]) * mean[j];
      offsets[c] = s;
    }
    spec.table = offsets.data();
    spec.kind = LogitScore::ArgmaxOffset;
  }
  std::vector<double> out = head_scores(backend, x, rows, fitted, spec, context);
  for (size_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    double r = 0, l1 = 0;
    for (size_t j = 0; j < dim; ++j) {
      const double v = double(xi[j]) - mean[j];
      r += v * v;
      l1 += std::fabs(double(xi[j]));
    }
    r = std::sqrt(r);
    out[i] = r > 0 ? out[i] / r : 0.0;
    if (kind == DecisionScore::Nci) out[i] += alpha * l1;
  }
  return out;
}

}  // namespace ncod
