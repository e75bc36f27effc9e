#include "nc_accumulator.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "checks.h"
#include "chunks.h"
#include "class_stats.h"
#include "error.h"

namespace ncod {

namespace {

void check_length(const char* what, const std::vector<double>& v, size_t expected) {
  if (v.size() != expected) {
    fail(ErrorCode::Shape, what, std::to_string(expected) + " values", std::to_string(v.size()) + " values");
  }
}

void check_finite(const char* what, const std::vector<double>& v) {
  for (size_t k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v[k])) fail(ErrorCode::NotFinite, std::string(what) + "[" + std::to_string(k) + "]", "a finite number", std::to_string(v[k]));
  }
}

// The lengths a state's claimed dim and classes imply, checked before anything of those sizes is allocated (a small
// file claiming dim = classes = 16384 must be refused at once, not after allocating gigabytes).
const NcAccumulatorState& check_state_sizes(const NcAccumulatorState& state) {
  const size_t d = state.dim, C = state.classes;
  if (d < 1 || d > 16384) fail(ErrorCode::Shape, "state.dim", "an integer in [1, 16384]", std::to_string(d));
  if (C < 2 || C > (size_t(1) << 20)) fail(ErrorCode::InvalidArgument, "state.classes", "an integer in [2, 2^20]", std::to_string(C));
  if (!state.shift.empty()) check_length("state.shift", state.shift, d);
  check_length("state.counts", state.counts, C);
  check_length("state.sums", state.sums, C * d);
  check_length("state.sqNorms", state.sq_norms, C);
  check_length("state.scatter", state.scatter, d * d);
  check_length("state.oodSums", state.ood_sums, d);
  return state;
}

}  // namespace

NcAccumulator::NcAccumulator(size_t dim, size_t classes) {
  if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", std::to_string(dim));
  if (classes < 2) fail(ErrorCode::InvalidArgument, "numClasses", "at least 2", std::to_string(classes));
  if (dim > 16384) fail(ErrorCode::Shape, "dim", "at most 16384 (the state holds a dim×dim matrix)", std::to_string(dim));
  s_.dim = dim;
  s_.classes = classes;
  s_.counts.assign(classes, 0.0);
  s_.sums.assign(classes * dim, 0.0);
  s_.sq_norms.assign(classes, 0.0);
  s_.scatter.assign(dim * dim, 0.0);
  s_.ood_sums.assign(dim, 0.0);
}

NcAccumulator::NcAccumulator(NcAccumulatorState state)
    : NcAccumulator(check_state_sizes(state).dim, state.classes) {
  for (const auto* v : {&state.shift, &state.counts, &state.sums, &state.sq_norms, &state.scatter, &state.ood_sums}) {
    check_finite("state", *v);
  }
  for (double c : state.counts) {
    if (c < 0 || c != std::floor(c)) fail(ErrorCode::InvalidArgument, "state.counts", "non-negative integers", std::to_string(c));
  }
  if (state.shift.empty() && std::any_of(state.counts.begin(), state.counts.end(), [](double c) { return c > 0; })) {
    fail(ErrorCode::InvalidArgument, "state.shift", "a shift when counts are non-zero", "none");
  }
  s_ = std::move(state);
}

void NcAccumulator::add(Backend& backend, const LabelledRows& batch, const RunContext& context) {
  const size_t C = s_.classes, d = s_.dim;
  if (batch.dim != d) fail(ErrorCode::Shape, "batch dim", std::to_string(d), std::to_string(batch.dim));
  check_labels(batch.y, batch.rows, C);
  // Batch statistics first, into temporaries: a failing batch (NaN, abort) leaves the state untouched.
  ClassStatsOptions options;
  options.num_classes = C;
  options.allow_empty_classes = true;
  ClassStats raw = compute_class_stats(backend, batch, options, context.stage(0, 0.5));

  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<double> shift = s_.shift;
  if (shift.empty()) {
    double n = 0;
    shift.assign(d, 0.0);
    for (size_t c = 0; c < C; ++c) {
      n += raw.counts[c];
      for (size_t j = 0; j < d; ++j) shift[j] += raw.sums[c * d + j];
    }
    for (double& k : shift) k /= n;
  }
  std::vector<double> shift_table(C * d);  // every class centred at K
  for (size_t c = 0; c < C; ++c) std::copy(shift.begin(), shift.end(), shift_table.begin() + c * d);
  std::vector<double> sq_norms(C, 0.0), scatter(d * d, 0.0);
  CentredRequest request;
  request.means = shift_table.data();
  request.class_sq_norms = sq_norms.data();
  request.scatter = scatter.data();
  const RunContext second = context.stage(0.5, 1.0);
  for_each_chunk(batch, second, 0.0, 1.0, [&](const LabelledRows& chunk, size_t) {
    backend.accumulate_centred(chunk, C, request);
  });

  s_.shift = std::move(shift);
  for (size_t c = 0; c < C; ++c) {
    s_.counts[c] += raw.counts[c];
    s_.sq_norms[c] += sq_norms[c];
    for (size_t j = 0; j < d; ++j) s_.sums[c * d + j] += raw.sums[c * d + j] - raw.counts[c] * s_.shift[j];
  }
  for (size_t k = 0; k < d * d; ++k) s_.scatter[k] += scatter[k];
}

void NcAccumulator::add_ood(Backend& backend, const float* x, size_t rows, const RunContext& context) {
  const size_t d = s_.dim;
  std::vector<int32_t> zeros(rows, 0);
  ClassStatsOptions options;
  options.num_classes = 1;
  options.what = "oodFeatures";
  ClassStats raw = compute_class_stats(backend, LabelledRows{x, zeros.data(), rows, d}, options, context);
  std::lock_guard<std::mutex> lock(mutex_);
  s_.ood_count += raw.counts[0];
  for (size_t j = 0; j < d; ++j) s_.ood_sums[j] += raw.sums[j];
}

size_t NcAccumulator::state_bytes(size_t dim, size_t classes) {
  return sizeof(double) * (dim * dim + classes * dim + 2 * classes + 2 * dim);
}

void NcAccumulator::merge(const NcAccumulator& other_acc) {
  if (&other_acc == this) fail(ErrorCode::InvalidArgument, "merge", "another accumulator", "itself");
  std::scoped_lock lock(mutex_, other_acc.mutex_);
  const NcAccumulatorState& o = other_acc.s_;
  const size_t C = s_.classes, d = s_.dim;
  if (o.dim != d || o.classes != C) {
    fail(ErrorCode::Shape, "merge", "a state with dim " + std::to_string(d) + " and " + std::to_string(C) + " classes",
         "dim " + std::to_string(o.dim) + " and " + std::to_string(o.classes) + " classes");
  }
  s_.ood_count += o.ood_count;
  for (size_t j = 0; j < d; ++j) s_.ood_sums[j] += o.ood_sums[j];
  if (o.shift.empty()) return;
  if (s_.shift.empty()) s_.shift = o.shift;
  // Re-express the other state about this shift: x − K₁ = (x − K₂) + Δ with Δ = K₂ − K₁.
  std::vector<double> delta(d), pooled(d, 0.0);
  double n = 0, delta2 = 0;
  for (size_t j = 0; j < d; ++j) {
    delta[j] = o.shift[j] - s_.shift[j];
    delta2 += delta[j] * delta[j];
  }
  for (size_t c = 0; c < C; ++c) {
    double cross = 0;
    for (size_t j = 0; j < d; ++j) {
      const double sc = o.sums[c * d + j];
      cross += delta[j] * sc;
      pooled[j] += sc;
      s_.sums[c * d + j] += sc + o.counts[c] * delta[j];
    }
    s_.sq_norms[c] += o.sq_norms[c] + 2 * cross + o.counts[c] * delta2;
    s_.counts[c] += o.counts[c];
    n += o.counts[c];
  }
  for (size_t a = 0; a < d; ++a) {
    for (size_t b = 0; b < d; ++b) {
      s_.scatter[a * d + b] += o.scatter[a * d + b] + delta[a] * pooled[b] + pooled[a] * delta[b] + n * delta[a] * delta[b];
    }
  }
}

NcAccumulatorState NcAccumulator::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_;
}

NcMetrics NcAccumulator::finalize(Backend& backend, const float* weights, const float* bias, bool weighted_global_mean,
                                  double rank_tolerance, const RunContext& context) const {
  context.throw_if_cancelled();
  const NcAccumulatorState s = state();
  const size_t C = s.classes, d = s.dim;
  for (size_t c = 0; c < C; ++c) {
    if (s.counts[c] == 0) fail(ErrorCode::EmptyClass, "class " + std::to_string(c), "at least one sample", "0 samples");
  }
  if (weights) check_finite("weights", weights, C, d);
  if (bias) check_finite("bias", bias, 1, C);
  NcSufficientStats st;
  st.dim = d;
  st.classes = C;
  st.counts = s.counts;
  st.means.resize(C * d);
  st.class_ss.resize(C);
  double n = 0;
  for (size_t c = 0; c < C; ++c) {
    n += s.counts[c];
    double s2 = 0;
    for (size_t j = 0; j < d; ++j) {
      const double sc = s.sums[c * d + j];
      st.means[c * d + j] = s.shift[j] + sc / s.counts[c];
      s2 += sc * sc;
    }
    st.class_ss[c] = s.sq_norms[c] - s2 / s.counts[c];  // Σ‖x − μ_c‖² = Σ‖x − K‖² − n_c‖μ_c − K‖²
  }
  st.n = static_cast<size_t>(n);
  // The SVD (LAPACK) cannot be interrupted: check right before and after it.
  context.throw_if_cancelled();
  derive_subspace(backend, st, weighted_global_mean, rank_tolerance);
  context.throw_if_cancelled();

  // u_kᵀ (N Σ_W) u_k = u_kᵀ S u_k − Σ_c (s_c·u_k)²/n_c, with S and s_c about the shift K.
  const size_t r = st.singular.size();
  std::vector<double> ut(r * d);  // Uᵀ, row-major r×d (U is column-major d×r: the same memory)
  std::copy(st.subspace.begin(), st.subspace.end(), ut.begin());
  std::vector<double> su(r * d), cu(C * r);
  if (r > 0) {
    backend.gram(ut.data(), r, s.scatter.data(), d, d, su.data());  // Uᵀ Sᵀ = Uᵀ S
    backend.gram(s.sums.data(), C, ut.data(), r, d, cu.data());     // (s_c·u_k)
  }
  st.projected_ss.assign(r, 0.0);
  for (size_t k = 0; k < r; ++k) {
    double v = 0;
    for (size_t j = 0; j < d; ++j) v += su[k * d + j] * ut[k * d + j];
    for (size_t c = 0; c < C; ++c) v -= cu[c * r + k] * cu[c * r + k] / s.counts[c];
    st.projected_ss[k] = v;
  }
  if (s.ood_count > 0) {
    st.ood_mean.resize(d);
    for (size_t j = 0; j < d; ++j) st.ood_mean[j] = s.ood_sums[j] / s.ood_count;
  }
  context.throw_if_cancelled();
  std::vector<double> w64, b64(C, 0.0);
  if (weights) w64.assign(weights, weights + C * d);
  if (bias) b64.assign(bias, bias + C);
  return assemble_nc_metrics(backend, st, weights ? w64.data() : nullptr, bias ? b64.data() : nullptr);
}

}  // namespace ncod
