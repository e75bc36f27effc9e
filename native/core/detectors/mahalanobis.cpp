// Mahalanobis and Relative Mahalanobis: fits (from rows or from moments) to whitened centres, and their scores.
#include "../detectors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../checks.h"
#include "../chunks.h"
#include "../class_stats.h"
#include "../error.h"
#include "../linalg.h"
#include "fitted_whitened.h"

namespace ncod {

namespace {

// L (p×d) with ‖L v‖² = vᵀ Σ⁺ v: the rows are the eigenvectors with λ > rcond·λ_max, each scaled by λ^−½ (see
// CovarianceOptions). Not triangularised: p < d whenever Σ is rank-deficient, and p×d is then the smaller product.
std::vector<double> pinv_whitening(const SymmetricEigen& eig, size_t d, double top, size_t& dims) {
  const double cut = double(d) * std::numeric_limits<double>::epsilon() * top;
  std::vector<double> L;
  L.reserve(d * d);
  for (size_t i = d; i-- > 0;) {  // descending eigenvalues
    if (!(eig.w[i] > cut)) break;
    const double s = 1.0 / std::sqrt(eig.w[i]);
    for (size_t j = 0; j < d; ++j) L.push_back(eig.v[i * d + j] * s);
  }
  dims = L.size() / d;
  return L;
}

// L with ‖L v‖² = vᵀ Σ_r⁻¹ v for a symmetric covariance (d×d row-major), dims its row count. Ridge: the R of a QR
// factorisation of diag((max(λ, 0) + ridge·λ_max)^−½) Vᵀ, upper triangular (see WhitenedModel), dims = d.
std::vector<double> whitening_of(const std::vector<double>& cov, size_t d, const CovarianceOptions& covariance,
                                 const char* what, size_t& dims) {
  const SymmetricEigen eig = symmetric_eigen(cov, d);
  const double top = eig.w.empty() ? 0.0 : std::max(eig.w.back(), 0.0);
  if (!(top > 0)) {
    fail(ErrorCode::InvalidArgument, what, "a non-zero covariance", "all-zero (every sample equals its mean)");
  }
  if (covariance.kind == CovarianceInverse::Pinv) return pinv_whitening(eig, d, top, dims);
  const double ridge = covariance.ridge;
  dims = d;
  std::vector<double> L(d * d);
  for (size_t i = 0; i < d; ++i) {
    const double lambda = std::max(eig.w[i], 0.0) + ridge * top;
    if (!(lambda > 0)) fail(ErrorCode::InvalidArgument, what, "an invertible covariance (use ridge > 0)", "a singular one");
    const double s = 1.0 / std::sqrt(lambda);
    for (size_t j = 0; j < d; ++j) L[i * d + j] = eig.v[i * d + j] * s;  // row i: eigenvector i, scaled
  }
  return qr_upper(L, d);
}

}  // namespace

WhitenedCentres WhitenedModel::view() const {
  bool upper = dims == dim;
  for (size_t i = 1; upper && i < dims; ++i) {
    for (size_t j = 0; j < i; ++j) upper = upper && whitening[i * dim + j] == 0.0;
  }
  return {shift.data(), whitening.data(), dims, centres.data(), count, upper};
}

namespace {

// The model from class counts, means, the global (sample) mean and the within-class covariance (scatter / N): the
// part both fits share, so a fit from moments matches the in-memory one up to how the statistics were summed.
MahalanobisModel mahalanobis_model(Backend& backend, const std::vector<double>& counts, const std::vector<double>& means,
                                   const std::vector<double>& global, std::vector<double> cov, size_t C, size_t d,
                                   double n, bool relative, const CovarianceOptions& covariance) {
  MahalanobisModel model;
  WhitenedModel& m = model.classes;
  m.dim = d;
  m.count = C;
  m.shift = global;
  m.whitening = whitening_of(cov, d, covariance, "within-class covariance", m.dims);
  // Centres L(μ_c − g) = rows of D Lᵀ for D the C×d centred means: one GEMM (C·d² would dominate a plain loop).
  std::vector<double> centred(C * d);
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < d; ++j) centred[c * d + j] = means[c * d + j] - global[j];
  m.centres.resize(C * m.dims);
  backend.gram(centred.data(), C, m.whitening.data(), m.dims, d, m.centres.data());
  if (!relative) return model;

  // The global covariance without another pass: within-class plus between-class scatter, both / N. The between
  // part is BᵀB for B's rows √(n_c/N)·(μ_c − g), formed as the Gram matrix of Bᵀ (d×C).
  std::vector<double> bt(d * C);
  for (size_t c = 0; c < C; ++c) {
    const double w = std::sqrt(counts[c] / n);
    for (size_t j = 0; j < d; ++j) bt[j * C + c] = w * centred[c * d + j];
  }
  std::vector<double> between(d * d);
  backend.gram(bt.data(), d, bt.data(), d, C, between.data());
  for (size_t k = 0; k < d * d; ++k) cov[k] += between[k];
  WhitenedModel& bg = model.background;
  bg.dim = d;
  bg.count = 1;
  bg.shift = global;
  bg.whitening = whitening_of(cov, d, covariance, "global covariance", bg.dims);
  bg.centres.assign(bg.dims, 0.0);
  return model;
}

void check_covariance(const CovarianceOptions& covariance) {
  const int kind = static_cast<int>(covariance.kind);
  if (kind != 0 && kind != 1) fail(ErrorCode::InvalidArgument, "covariance", "0 (ridge) or 1 (pinv)", std::to_string(kind));
  const double ridge = covariance.ridge;
  if (!(ridge >= 0) || !std::isfinite(ridge)) fail(ErrorCode::InvalidArgument, "ridge", "a finite number >= 0", std::to_string(ridge));
}

}  // namespace

MahalanobisModel fit_mahalanobis(Backend& backend, const LabelledRows& data, size_t num_classes, bool relative,
                                 const CovarianceOptions& covariance, const RunContext& context) {
  check_covariance(covariance);
  ClassStatsOptions options;
  options.num_classes = num_classes;
  options.with_scatter = true;
  const ClassStats st = compute_class_stats(backend, data, options, context);
  const size_t C = num_classes, d = data.dim;
  const double n = double(data.rows);

  std::vector<double> global(d, 0.0);  // the sample mean
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < d; ++j) global[j] += st.sums[c * d + j] / n;

  std::vector<double> cov(d * d);
  for (size_t k = 0; k < d * d; ++k) cov[k] = st.scatter[k] / n;
  // The eigendecompositions (LAPACK) cannot be interrupted, and take seconds at large d: check right before and after.
  context.throw_if_cancelled();
  MahalanobisModel model = mahalanobis_model(backend, st.counts, st.means, global, std::move(cov), C, d, n, relative, covariance);
  context.throw_if_cancelled();
  return model;
}

void check_moments(const ShiftedMoments& m, bool require_all_classes) {
  const size_t d = m.dim, C = m.classes;
  if (d < 1) fail(ErrorCode::Shape, "dim", "at least 1", std::to_string(d));
  if (C < 1) fail(ErrorCode::InvalidArgument, "numClasses", "at least 1", "0");
  auto length = [](const char* what, const std::vector<double>& v, size_t expected) {
    if (v.size() != expected) fail(ErrorCode::Shape, what, std::to_string(expected) + " values", std::to_string(v.size()) + " values");
  };
  length("shift", m.shift, d);
  length("counts", m.counts, C);
  length("sums", m.sums, C * d);
  length("scatter", m.scatter, d * d);
  check_finite("shift", m.shift.data(), 1, d);
  check_finite("counts", m.counts.data(), 1, C);
  check_finite("sums", m.sums.data(), C, d);
  check_finite("scatter", m.scatter.data(), d, d);
  double n = 0;
  for (size_t c = 0; c < C; ++c) {
    const double k = m.counts[c];
    if (k < 0 || k != std::floor(k)) fail(ErrorCode::InvalidArgument, "counts[" + std::to_string(c) + "]", "a non-negative integer", std::to_string(k));
    if (require_all_classes && k == 0) fail(ErrorCode::EmptyClass, "class " + std::to_string(c), "at least one sample", "0 samples");
    n += k;
  }
  if (!(n > 0)) fail(ErrorCode::Shape, "counts", "at least one sample in total", "0");
}

MahalanobisModel mahalanobis_from_moments(Backend& backend, const ShiftedMoments& mo, bool relative,
                                          const CovarianceOptions& covariance) {
  check_covariance(covariance);
  check_moments(mo, true);
  const size_t C = mo.classes, d = mo.dim;
  double n = 0;
  for (double k : mo.counts) n += k;
  std::vector<double> means(C * d), pooled(d, 0.0), global(d);
  for (size_t c = 0; c < C; ++c) {
    for (size_t j = 0; j < d; ++j) {
      means[c * d + j] = mo.shift[j] + mo.sums[c * d + j] / mo.counts[c];
      pooled[j] += mo.sums[c * d + j];
    }
  }
  for (size_t j = 0; j < d; ++j) global[j] = mo.shift[j] + pooled[j] / n;
  // Within-class scatter about the class means: S − Σ_c s_c s_cᵀ/n_c, the sum as the Gram matrix of the d×C matrix
  // with columns s_c/√n_c.
  std::vector<double> st(d * C), between(d * d), cov(d * d);
  for (size_t c = 0; c < C; ++c) {
    const double w = 1.0 / std::sqrt(mo.counts[c]);
    for (size_t j = 0; j < d; ++j) st[j * C + c] = w * mo.sums[c * d + j];
  }
  backend.gram(st.data(), d, st.data(), d, C, between.data());
  for (size_t k = 0; k < d * d; ++k) cov[k] = (mo.scatter[k] - between[k]) / n;
  return mahalanobis_model(backend, mo.counts, means, global, std::move(cov), C, d, n, relative, covariance);
}

std::vector<double> mahalanobis_scores(BackendKind backend, const float* x, size_t rows, FittedWhitened& classes,
                                       FittedWhitened* background, const RunContext& context) {
  const size_t d = classes.dim();
  if (background && background->dim() != d) {
    fail(ErrorCode::Shape, "background model", "dim " + std::to_string(d), "dim " + std::to_string(background->dim()));
  }
  check_finite("features", x, rows, d);
  std::vector<double> out(rows), rest(background ? rows : 0);
  PreparedWhitenedCentres& prepared = classes.prepared(backend);
  PreparedWhitenedCentres* prepared_rest = background ? &background->prepared(backend) : nullptr;
  for_each_row_range(rows, d, context, 0.0, 1.0, [&](size_t start, size_t n) {
    prepared.min_sq_distances(x + start * d, n, out.data() + start);
    if (prepared_rest) prepared_rest->min_sq_distances(x + start * d, n, rest.data() + start);
  });
  for (size_t i = 0; i < rows; ++i) out[i] = -(out[i] - (rest.empty() ? 0.0 : rest[i]));
  return out;
}

}  // namespace ncod
