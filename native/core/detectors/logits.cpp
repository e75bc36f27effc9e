// Logit scores (MSP, MaxLogit, Energy, GEN, Entropy): checks, then chunks over Backend::score_logits (the same on a
// linear head's logits: fitted_head.cpp).
#include "../detectors.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../checks.h"
#include "../chunks.h"
#include "../class_stats.h"
#include "../error.h"
#include "../linalg.h"

namespace ncod {

LogitScoreSpec checked_logit_spec(LogitScoreSpec spec, size_t classes) {
  if (classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1", "0");
  const int kind = static_cast<int>(spec.kind);
  if (kind < 0 || kind > 6) fail(ErrorCode::InvalidArgument, "score kind", "0..6", std::to_string(kind));
  const bool tabled = spec.kind == LogitScore::FdbdSum || spec.kind == LogitScore::ArgmaxOffset;
  if (tabled && spec.table == nullptr) fail(ErrorCode::InvalidArgument, "score kind", "a table for kinds 5 and 6", "none");
  if (!(spec.temperature > 0) || !std::isfinite(spec.temperature))
    fail(ErrorCode::InvalidArgument, "temperature", "a finite number > 0", std::to_string(spec.temperature));
  if (!(spec.gamma > 0) || !std::isfinite(spec.gamma))
    fail(ErrorCode::InvalidArgument, "gamma", "a finite number > 0", std::to_string(spec.gamma));
  if (spec.top == 0) spec.top = std::min<size_t>(100, classes);
  if (spec.top > classes)
    fail(ErrorCode::InvalidArgument, "topM", "an integer in [1, " + std::to_string(classes) + "]", std::to_string(spec.top));
  return spec;
}

std::vector<double> score_logits(Backend& backend, const float* logits, size_t rows, size_t classes,
                                 const LogitScoreSpec& spec, const RunContext& context) {
  const LogitScoreSpec s = checked_logit_spec(spec, classes);
  std::vector<double> out(rows);
  for_each_row_range(rows, classes, context, 0.0, 1.0, [&](size_t start, size_t n) {
    backend.score_logits(logits + start * classes, n, classes, s, out.data() + start);
    // A row with a non-finite logit scores NaN (see Backend::score_logits), so the logits, often gigabytes, are
    // read once; the full check then names the first bad element (all chunks before this one were finite).
    for (size_t i = start; i < start + n; ++i) {
      if (std::isnan(out[i])) check_finite("logits", logits, start + n, classes);
    }
  });
  return out;
}

}  // namespace ncod
