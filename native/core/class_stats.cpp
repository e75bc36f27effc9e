#include "class_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "checks.h"
#include "error.h"

namespace ncod {

namespace {

// Large enough to amortise kernel launches and transfers, small enough for prompt cancellation.
constexpr size_t kChunkBytes = size_t(32) << 20;

// Calls fn(chunk) over consecutive chunks of rows, checking for cancellation and reporting progress
// linearly from progress_from to progress_to.
template <typename Fn>
void for_each_chunk(const LabelledRows& data, const RunContext& context, double progress_from,
                    double progress_to, Fn&& fn) {
  const size_t step = rows_per_chunk(data.dim, kChunkBytes);
  for (size_t start = 0; start < data.rows; start += step) {
    context.throw_if_cancelled();
    const size_t rows = std::min(step, data.rows - start);
    fn(LabelledRows{data.x + start * data.dim, data.y + start, rows, data.dim});
    context.progress(progress_from + (progress_to - progress_from) * double(start + rows) / double(data.rows));
  }
}

bool all_finite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

size_t rows_per_chunk(size_t dim, size_t bytes) {
  return std::max<size_t>(1, bytes / (std::max<size_t>(dim, 1) * sizeof(float)));
}

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
  for_each_chunk(data, context, 0.0, sums_end, [&](const LabelledRows& chunk) {
    backend.accumulate_class_sums(chunk, C, stats.counts.data(), stats.sums.data());
  });
  // A float64 sum of finite float32 values cannot overflow, so a non-finite sum means a non-finite input:
  // only then pay for the scan that finds it.
  if (!all_finite(stats.sums)) check_finite("features", data.x, data.rows, d);

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
    for_each_chunk(data, context, sums_end, 1.0, [&](const LabelledRows& chunk) {
      backend.accumulate_within_scatter(chunk, C, stats.means.data(), stats.scatter.data());
    });
  }
  return stats;
}

}  // namespace ncod
