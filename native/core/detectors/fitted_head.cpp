#include "fitted_head.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../checks.h"
#include "../chunks.h"
#include "../detectors.h"
#include "../error.h"

namespace ncod {

FittedHead::FittedHead(const float* weights, const float* bias, size_t classes, size_t dim, float clip) : dim_(dim) {
  if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
  if (classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1", "0");
  check_finite("weights", weights, classes, dim);
  if (bias) check_finite("bias", bias, 1, classes);
  if (!(clip > -std::numeric_limits<float>::infinity()))  // NaN or −inf
    fail(ErrorCode::InvalidArgument, "clip", "a finite number (or Infinity for none)", std::to_string(clip));
  weights_.assign(weights, weights + classes * dim);
  if (bias) bias_.assign(bias, bias + classes);
  head_.weights = weights_.data();
  head_.bias = bias ? bias_.data() : nullptr;
  head_.classes = classes;
  head_.clip = clip;
}

PreparedLinearHead& FittedHead::prepared(BackendKind kind) {
  return prepared_.get(kind, [&](Backend& backend) { return backend.prepare_linear_head(head_, dim_); });
}

const std::vector<double>& FittedHead::inverse_pair_distances(BackendKind kind) {
  std::lock_guard lock(table_mutex_);
  std::vector<double>& table = tables_[static_cast<size_t>(kind)];
  if (!table.empty()) return table;
  // From the Gram matrix of the head rows: ‖w_a − w_c‖² = g_aa + g_cc − 2 g_ac.
  const size_t C = head_.classes, d = dim_;
  const std::vector<double> w(weights_.begin(), weights_.end());
  std::vector<double> g(C * C);
  get_backend(kind).gram(w.data(), C, w.data(), C, d, g.data());
  std::vector<double> out(C * C, 0.0);
  for (size_t a = 0; a < C; ++a) {
    for (size_t c = 0; c < C; ++c) {
      if (a == c) continue;
      double sq = g[a * C + a] + g[c * C + c] - 2 * g[a * C + c];
      if (sq <= 1e-8 * (g[a * C + a] + g[c * C + c])) {  // nearly equal rows: the Gram form cancels, sum directly
        sq = 0;
        for (size_t j = 0; j < d; ++j) {
          const double diff = double(weights_[a * d + j]) - weights_[c * d + j];
          sq += diff * diff;
        }
      }
      if (!(sq > 0)) {
        fail(ErrorCode::InvalidArgument, "weights", "pairwise distinct class rows for fDBD",
             "rows " + std::to_string(a) + " and " + std::to_string(c) + " equal");
      }
      out[a * C + c] = 1.0 / std::sqrt(sq);
    }
  }
  table = std::move(out);
  try {
    prepared(kind).keep_pair_table(table.data(), table.size());  // CUDA keeps it on the device: not sent per batch
  } catch (...) {
    table.clear();  // not kept: the next score computes and offers it again
    throw;
  }
  return table;
}

std::vector<double> head_scores(BackendKind backend, const float* x, size_t rows, FittedHead& head,
                                const LogitScoreSpec& spec, const RunContext& context) {
  const LogitScoreSpec s = checked_logit_spec(spec, head.classes());
  const size_t dim = head.dim();
  check_finite("features", x, rows, dim);
  std::vector<double> out(rows);
  PreparedLinearHead& prepared = head.prepared(backend);
  for_each_row_range(rows, std::max(dim, head.classes()), context, 0.0, 1.0, [&](size_t start, size_t n) {
    prepared.scores(x + start * dim, n, s, out.data() + start);
  });
  return out;
}

}  // namespace ncod
