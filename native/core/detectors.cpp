#include "detectors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <string>

#include "checks.h"
#include "chunks.h"
#include "class_stats.h"
#include "error.h"
#include "linalg.h"

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

std::vector<double> linear_scores(Backend& backend, const float* x, size_t rows, size_t dim, const LinearHead& head,
                                  const LogitScoreSpec& spec, const RunContext& context) {
  const LogitScoreSpec s = checked_logit_spec(spec, head.classes);
  check_finite("weights", head.weights, head.classes, dim);
  if (head.bias) check_finite("bias", head.bias, 1, head.classes);
  if (!(head.clip > -std::numeric_limits<float>::infinity()))  // NaN or −inf
    fail(ErrorCode::InvalidArgument, "clip", "a finite number (or Infinity for none)", std::to_string(head.clip));
  check_finite("features", x, rows, dim);
  std::vector<double> out(rows);
  for_each_row_range(rows, std::max(dim, head.classes), context, 0.0, 1.0, [&](size_t start, size_t n) {
    backend.linear_scores(x + start * dim, n, dim, head, s, out.data() + start);
  });
  return out;
}

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

std::vector<double> mahalanobis_scores(Backend& backend, const float* x, size_t rows, const MahalanobisModel& model,
                                       const RunContext& context) {
  const size_t d = model.classes.dim;
  check_finite("features", x, rows, d);
  std::vector<double> out(rows), background(model.background.count > 0 ? rows : 0);
  for_each_row_range(rows, d, context, 0.0, 1.0, [&](size_t start, size_t n) {
    backend.min_whitened_sq_distances(x + start * d, n, d, model.classes.view(), out.data() + start);
    if (!background.empty())
      backend.min_whitened_sq_distances(x + start * d, n, d, model.background.view(), background.data() + start);
  });
  for (size_t i = 0; i < rows; ++i) out[i] = -(out[i] - (background.empty() ? 0.0 : background[i]));
  return out;
}

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

std::vector<float> l2_normalised(const char* what, const float* x, size_t rows, size_t dim) {
  check_finite(what, x, rows, dim);
  std::vector<float> out(rows * dim);
  for (size_t i = 0; i < rows; ++i) {
    const float* xi = x + i * dim;
    double s = 0;
    for (size_t j = 0; j < dim; ++j) s += double(xi[j]) * xi[j];
    const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    for (size_t j = 0; j < dim; ++j) out[i * dim + j] = static_cast<float>(xi[j] * inv);
  }
  return out;
}

std::vector<double> knn_scores(Backend& backend, const float* x, size_t rows, const float* bank, size_t bank_rows,
                               size_t dim, size_t k, const RunContext& context) {
  if (k < 1 || k > bank_rows)
    fail(ErrorCode::InvalidArgument, "k", "an integer in [1, " + std::to_string(bank_rows) + "] (the fit set size)",
         std::to_string(k));
  check_finite("features", x, rows, dim);
  // The bank too: a NaN similarity passes no threshold, and the k-th largest of fewer than k values does not exist.
  check_finite("bank", bank, bank_rows, dim);
  std::vector<double> out(rows);
  for_each_row_range(rows, dim, context, 0.0, 1.0, [&](size_t start, size_t n) {
    const std::vector<float> q = l2_normalised("features", x + start * dim, n, dim);
    backend.knn_kth_similarity(q.data(), n, bank, bank_rows, dim, k, out.data() + start, context);
  });
  return out;
}

}  // namespace ncod
