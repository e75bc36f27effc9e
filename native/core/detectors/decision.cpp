// Decision-boundary detectors (fDBD, NCI): a per-class table from the head, then one linear_scores pass and the
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

namespace ncod {

namespace {

// 1/‖w_a − w_c‖ (C×C, zero diagonal) from the Gram matrix of the head rows.
std::vector<double> inverse_pair_distances(Backend& backend, const LinearHead& head, size_t d) {
  const size_t C = head.classes;
  const std::vector<double> w(head.weights, head.weights + C * d);
  std::vector<double> g(C * C);
  backend.gram(w.data(), C, w.data(), C, d, g.data());
  std::vector<double> table(C * C, 0.0);
  for (size_t a = 0; a < C; ++a) {
    for (size_t c = 0; c < C; ++c) {
      if (a == c) continue;
      double sq = g[a * C + a] + g[c * C + c] - 2 * g[a * C + c];
      if (sq <= 1e-8 * (g[a * C + a] + g[c * C + c])) {  // nearly equal rows: the Gram form cancels, sum directly
        sq = 0;
        for (size_t j = 0; j < d; ++j) {
          const double diff = double(head.weights[a * d + j]) - head.weights[c * d + j];
          sq += diff * diff;
        }
      }
      if (!(sq > 0)) {
        fail(ErrorCode::InvalidArgument, "weights", "pairwise distinct class rows for fDBD",
             "rows " + std::to_string(a) + " and " + std::to_string(c) + " equal");
      }
      table[a * C + c] = 1.0 / std::sqrt(sq);
    }
  }
  return table;
}

}  // namespace

std::vector<double> decision_scores(Backend& backend, const float* x, size_t rows, size_t dim, const LinearHead& head,
                                    const double* mean, DecisionScore kind, double alpha, const RunContext& context) {
  const size_t C = head.classes;
  check_finite("mean", mean, 1, dim);
  if (!std::isfinite(alpha)) fail(ErrorCode::InvalidArgument, "alpha", "a finite number", std::to_string(alpha));
  check_finite("weights", head.weights, C, dim);
  if (head.bias) check_finite("bias", head.bias, 1, C);
  std::vector<double> table;
  LogitScoreSpec spec;
  if (kind == DecisionScore::Fdbd) {
    table = inverse_pair_distances(backend, head, dim);
    spec.kind = LogitScore::FdbdSum;
  } else {
    table.resize(C);  // z_c − table[c] = w_c·(x − μ)
    for (size_t c = 0; c < C; ++c) {
      double s = head.bias ? double(head.bias[c]) : 0.0;
      for (size_t j = 0; j < dim; ++j) s += double(head.weights[c * dim + j]) * mean[j];
      table[c] = s;
    }
    spec.kind = LogitScore::ArgmaxOffset;
  }
  spec.table = table.data();
  std::vector<double> out = linear_scores(backend, x, rows, dim, head, spec, context);
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
