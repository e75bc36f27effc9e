#include "class_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "checks.h"
#include "chunks.h"
#include "error.h"

namespace ncod {

namespace {

bool all_finite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

ClassStats compute_class_stats(Backend& backend, const LabelledRows& data, const ClassStatsOptions& options,
                               const RunContext& context) {
  const size_t C = options.num_classes;
  const size_t d = data.dim;
  if (C < 1) fail(ErrorCode::InvalidArgument, "numClasses", "an integer >= 1", std::to_string(C));
  check_labels(data.y, data.rows, C);

  ClassStats stats;
  stats.num_classes = C;
  stats.dim = d;
  stats.counts.assign(C, 0.0);
  stats.sums.assign(C * d, 0.0);

  const double sums_end = options.with_scatter ? 0.5 : 1.0;
  for_each_chunk(data, context, 0.0, sums_end, [&](const LabelledRows& chunk, size_t) {
    backend.accumulate_class_sums(chunk, C, stats.counts.data(), stats.sums.data());
  });
  // A float64 sum of finite float32 values cannot overflow, so a non-finite sum means a non-finite input:
  // only then pay for the scan that finds it.
  if (!all_finite(stats.sums)) check_finite(options.what, data.x, data.rows, d);

  stats.means.assign(C * d, std::numeric_limits<double>::quiet_NaN());
  for (size_t c = 0; c < C; ++c) {
    if (stats.counts[c] == 0) {
      if (options.allow_empty_classes) continue;
      fail(ErrorCode::EmptyClass, "class " + std::to_string(c), "at least one sample", "0 samples");
    }
    for (size_t j = 0; j < d; ++j) stats.means[c * d + j] = stats.sums[c * d + j] / stats.counts[c];
  }

  if (options.with_scatter) {
    stats.scatter.assign(d * d, 0.0);
    CentredRequest request;
    request.means = stats.means.data();
    request.scatter = stats.scatter.data();
    for_each_chunk(data, context, sums_end, 1.0, [&](const LabelledRows& chunk, size_t) {
      backend.accumulate_centred(chunk, C, request);
    });
  }
  return stats;
}

}  // namespace ncod
