// Principal subspaces for ViM, Residual and NECO: fits from rows or from one-class moments.
#include "../detectors.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "../checks.h"
#include "../chunks.h"
#include "../class_stats.h"
#include "../error.h"
#include "../linalg.h"
#include "fitted_head.h"
#include "fitted_whitened.h"

namespace ncod {

namespace {

// −pinv(W) b for W (C×d row-major): with Wᵀ = U S Vᵀ (thin SVD of the column-major d×C matrix that W's buffer is),
// pinv(W) b = U S⁻² Uᵀ Wᵀ b; singular values below NumPy's default pinv cut-off (1e-15·s_max) are dropped.
std::vector<double> vim_origin(const float* W, const float* b, size_t C, size_t d) {
  std::vector<double> wt(W, W + C * d);
  const ThinSvd svd = thin_svd(wt, d, C);
  std::vector<double> wtb(d, 0.0);  // Wᵀ b
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < d; ++j) wtb[j] += double(W[c * d + j]) * (b ? double(b[c]) : 0.0);
  std::vector<double> u(d, 0.0);
  const double cut = 1e-15 * (svd.s.empty() ? 0.0 : svd.s[0]);
  for (size_t k = 0; k < svd.s.size(); ++k) {
    if (!(svd.s[k] > cut)) continue;
    const double* uk = svd.u.data() + k * d;
    double proj = 0;
    for (size_t j = 0; j < d; ++j) proj += uk[j] * wtb[j];
    proj /= svd.s[k] * svd.s[k];
    for (size_t j = 0; j < d; ++j) u[j] -= proj * uk[j];
  }
  return u;
}

}  // namespace

namespace {

void check_head(const float* weights, const float* bias, size_t classes, size_t d) {
  if (weights) {
    check_finite("weights", weights, classes, d);
    if (bias) check_finite("bias", bias, 1, classes);
  }
}

// The subspace from the sample mean and the covariance about it (d×d, / N): what both fits share.
Subspace subspace_of(const std::vector<double>& mean, std::vector<double> cov, size_t d, const float* weights,
                     const float* bias, size_t classes, bool standardise) {
  Subspace out;
  out.shift = weights ? vim_origin(weights, bias, classes, d) : mean;
  std::vector<double> diff(d);
  for (size_t j = 0; j < d; ++j) diff[j] = mean[j] - out.shift[j];
  for (size_t a = 0; a < d; ++a)
    for (size_t b = 0; b < d; ++b) cov[a * d + b] += diff[a] * diff[b];
  out.scale.assign(d, 1.0);
  if (standardise) {
    for (size_t j = 0; j < d; ++j) out.scale[j] = cov[j * d + j] > 0 ? std::sqrt(cov[j * d + j]) : 1.0;
    for (size_t a = 0; a < d; ++a)
      for (size_t b = 0; b < d; ++b) cov[a * d + b] /= out.scale[a] * out.scale[b];
  }
  const SymmetricEigen eig = symmetric_eigen(cov, d);
  out.eigenvalues.resize(d);
  out.eigenvectors.resize(d * d);
  for (size_t i = 0; i < d; ++i) {  // reverse: descending
    const size_t from = d - 1 - i;
    out.eigenvalues[i] = eig.w[from];
    std::copy(eig.v.begin() + from * d, eig.v.begin() + (from + 1) * d, out.eigenvectors.begin() + i * d);
  }
  return out;
}

}  // namespace

Subspace fit_subspace(Backend& backend, const float* x, size_t rows, size_t d, const float* weights, const float* bias,
                      size_t classes, bool standardise, const RunContext& context) {
  check_head(weights, bias, classes, d);
  const std::vector<int32_t> zeros(rows, 0);  // one class: the scatter about the sample mean
  ClassStatsOptions options;
  options.num_classes = 1;
  options.with_scatter = true;
  const ClassStats st = compute_class_stats(backend, LabelledRows{x, zeros.data(), rows, d}, options, context);
  const double n = double(rows);
  std::vector<double> cov(d * d);
  for (size_t k = 0; k < d * d; ++k) cov[k] = st.scatter[k] / n;
  // The eigendecomposition (LAPACK) cannot be interrupted: check right before and after it.
  context.throw_if_cancelled();
  Subspace subspace = subspace_of(st.means, std::move(cov), d, weights, bias, classes, standardise);
  context.throw_if_cancelled();
  return subspace;
}

Subspace subspace_from_moments(const ShiftedMoments& mo, const float* weights, const float* bias, size_t classes,
                               bool standardise) {
  if (mo.classes != 1) fail(ErrorCode::InvalidArgument, "moments", "one class", std::to_string(mo.classes) + " classes");
  check_moments(mo, false);  // no rows at all is ERR_SHAPE, as for an empty feature array
  const size_t d = mo.dim;
  check_head(weights, bias, classes, d);
  const double n = mo.counts[0];
  std::vector<double> mean(d), delta(d), cov(d * d);
  for (size_t j = 0; j < d; ++j) {
    delta[j] = mo.sums[j] / n;
    mean[j] = mo.shift[j] + delta[j];
  }
  for (size_t a = 0; a < d; ++a)
    for (size_t b = 0; b < d; ++b) cov[a * d + b] = mo.scatter[a * d + b] / n - delta[a] * delta[b];
  return subspace_of(mean, std::move(cov), d, weights, bias, classes, standardise);
}

std::vector<double> subspace_scores(BackendKind backend, const float* x, size_t rows, FittedWhitened& projection,
                                    FittedHead& head, const SubspaceScoreSpec& spec, const RunContext& context) {
  const size_t d = projection.dim();
  if (head.dim() != d) fail(ErrorCode::Shape, "head", "dim " + std::to_string(d) + " (the projection's)", "dim " + std::to_string(head.dim()));
  const bool neco = spec.kind == SubspaceScore::Neco;
  const bool with_head = spec.kind == SubspaceScore::Vim || (neco && spec.multiply_max_logit);
  if (!std::isfinite(spec.alpha)) fail(ErrorCode::InvalidArgument, "alpha", "a finite number", std::to_string(spec.alpha));
  if (neco) {
    check_finite("shift", spec.shift.data(), 1, d);
    check_finite("scale", spec.scale.data(), 1, d);
  }
  check_finite("features", x, rows, d);
  LogitScoreSpec logit;
  logit.kind = spec.kind == SubspaceScore::Vim ? LogitScore::Energy : LogitScore::MaxLogit;
  logit = checked_logit_spec(logit, head.classes());
  std::vector<double> out(rows), logits(with_head ? rows : 0);
  PreparedWhitenedCentres& centres = projection.prepared(backend);
  PreparedLinearHead* prepared_head = with_head ? &head.prepared(backend) : nullptr;
  for_each_row_range(rows, std::max(d, head.classes()), context, 0.0, 1.0, [&](size_t start, size_t n) {
    centres.min_sq_distances(x + start * d, n, out.data() + start);
    if (prepared_head) prepared_head->scores(x + start * d, n, logit, logits.data() + start);
  });
  for (size_t i = 0; i < rows; ++i) {
    const double p = out[i];
    if (spec.kind == SubspaceScore::Vim) {
      out[i] = logits[i] - spec.alpha * std::sqrt(p);
    } else if (spec.kind == SubspaceScore::Residual) {
      out[i] = -std::sqrt(p);
    } else {
      double total = 0;  // ‖z‖², O(N·d): cheaper here than a d×d product
      for (size_t j = 0; j < d; ++j) {
        const double z = (double(x[i * d + j]) - spec.shift[j]) / spec.scale[j];
        total += z * z;
      }
      out[i] = total > 0 ? std::sqrt(p / total) : 0.0;
      if (spec.multiply_max_logit) out[i] *= logits[i];
    }
  }
  return out;
}

}  // namespace ncod
