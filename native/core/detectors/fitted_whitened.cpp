#include "fitted_whitened.h"

#include <string>

#include "../checks.h"
#include "../error.h"

namespace ncod {

namespace {

void check_length(const char* what, const std::vector<double>& v, size_t expected, const std::string& meaning) {
  if (v.size() != expected) fail(ErrorCode::Shape, what, std::to_string(expected) + " elements (" + meaning + ")", std::to_string(v.size()) + " elements");
}

}  // namespace

FittedWhitened::FittedWhitened(WhitenedModel model) : model_(std::move(model)) {
  const WhitenedModel& m = model_;
  if (m.dim < 1 || m.dims < 1 || m.count < 1) {
    fail(ErrorCode::InvalidArgument, "model", "a fitted model (dim, dims, count >= 1)",
         "dim " + std::to_string(m.dim) + ", dims " + std::to_string(m.dims) + ", count " + std::to_string(m.count));
  }
  check_length("model.shift", m.shift, m.dim, "dim");
  check_length("model.whitening", m.whitening, m.dims * m.dim, "dims × dim");
  check_length("model.centres", m.centres, m.count * m.dims, "count × dims");
  check_finite("model.shift", m.shift.data(), 1, m.dim);
  check_finite("model.whitening", m.whitening.data(), m.dims, m.dim);
  check_finite("model.centres", m.centres.data(), m.count, m.dims);
  view_ = model_.view();
}

PreparedWhitenedCentres& FittedWhitened::prepared(BackendKind kind) {
  return prepared_.get(kind, [&](Backend& backend) { return backend.prepare_whitened_centres(view_, model_.dim); });
}

}  // namespace ncod
