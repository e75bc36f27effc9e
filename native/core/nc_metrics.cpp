#include "nc_metrics.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "checks.h"
#include "chunks.h"
#include "class_stats.h"
#include "error.h"
#include "linalg.h"
#include "nc_uniformity.h"

namespace ncod {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double dot(const double* a, const double* b, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

double frobenius(const std::vector<double>& m) { return std::sqrt(dot(m.data(), m.data(), m.size())); }

// ‖G/‖G‖_F − E‖_F with E = (I − 11ᵀ/C)/√(C−1), the simplex ETF Gram.
double etf_distance(const std::vector<double>& gram, size_t C) {
  const double norm = frobenius(gram);
  const double scale = 1.0 / std::sqrt(double(C - 1));
  double sum = 0;
  for (size_t a = 0; a < C; ++a) {
    for (size_t b = 0; b < C; ++b) {
      const double e = ((a == b ? 1.0 : 0.0) - 1.0 / double(C)) * scale;
      const double diff = gram[a * C + b] / norm - e;
      sum += diff * diff;
    }
  }
  return std::sqrt(sum);
}

// std/mean of positive values, std with Bessel's correction as torch.std in Papyan's and the paper's code.
double coefficient_of_variation(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  var /= double(v.size() - 1);
  return std::sqrt(var) / mean;
}

std::vector<double> row_norms(const std::vector<double>& m, size_t rows, size_t cols) {
  std::vector<double> out(rows);
  for (size_t r = 0; r < rows; ++r) out[r] = std::sqrt(dot(&m[r * cols], &m[r * cols], cols));
  return out;
}

// Rows μ_c − μ_G (C×d, row-major): M̃ᵀ.
std::vector<double> centred_means(const NcSufficientStats& stats) {
  const size_t C = stats.classes, d = stats.dim;
  std::vector<double> out(C * d);
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < d; ++j) out[c * d + j] = stats.means[c * d + j] - stats.global_mean[j];
  return out;
}

std::vector<double> gram(Backend& backend, const std::vector<double>& a, size_t m, const std::vector<double>& b,
                         size_t n, size_t k) {
  std::vector<double> out(m * n, kNaN);
  backend.gram(a.data(), m, b.data(), n, k, out.data());
  return out;
}

// Mean over c ≠ c' of |cos(g_c, g_c') + 1/(C−1)| from a Gram matrix.
double equiangularity(const std::vector<double>& g, size_t C) {
  double sum = 0;
  for (size_t a = 0; a < C; ++a)
    for (size_t b = 0; b < C; ++b)
      if (a != b) sum += std::fabs(g[a * C + b] / std::sqrt(g[a * C + a] * g[b * C + b]) + 1.0 / double(C - 1));
  return sum / double(C * (C - 1));
}

}  // namespace

void check_nc_inputs(const NcInputs& in) {
  const size_t C = in.num_classes, d = in.data.dim;
  if (C < 2) fail(ErrorCode::InvalidArgument, "numClasses", "at least 2 classes for Neural Collapse metrics", std::to_string(C));
  if (in.weights) check_finite("weights", in.weights, C, d);
  if (in.bias) check_finite("bias", in.bias, 1, C);
  if (in.bias && !in.weights) fail(ErrorCode::InvalidArgument, "bias", "weights to go with it", "bias without weights");
  if (in.ood && in.ood_rows == 0) fail(ErrorCode::Shape, "oodFeatures", "at least one row", "0 rows");
}

void derive_subspace(Backend& backend, NcSufficientStats& stats, bool weighted_global_mean, double rank_tolerance) {
  (void)backend;
  const size_t C = stats.classes, d = stats.dim;
  stats.global_mean.assign(d, 0.0);
  double total = 0;
  for (size_t c = 0; c < C; ++c) {
    const double w = weighted_global_mean ? stats.counts[c] : 1.0;
    total += w;
    for (size_t j = 0; j < d; ++j) stats.global_mean[j] += w * stats.means[c * d + j];
  }
  for (double& g : stats.global_mean) g /= total;

  // M̃ (d×C column-major) is exactly the row-major C×d matrix of centred means.
  ThinSvd svd = thin_svd(centred_means(stats), d, C);
  const double tol = (rank_tolerance < 0 ? double(d > C ? d : C) * DBL_EPSILON : rank_tolerance) *
                     (svd.s.empty() ? 0.0 : svd.s[0]);
  size_t rank = 0;
  while (rank < svd.s.size() && svd.s[rank] > tol && svd.s[rank] > 0) ++rank;
  stats.singular.assign(svd.s.begin(), svd.s.begin() + rank);
  stats.subspace.assign(svd.u.begin(), svd.u.begin() + rank * d);
}

NcMetrics assemble_nc_metrics(Backend& backend, const NcSufficientStats& st, const double* weights, const double* bias) {
  const size_t C = st.classes, d = st.dim, r = st.singular.size();
  NcMetrics m{};
  m.n = st.n;
  m.dim = d;
  m.classes = C;
  m.rank = r;

  // NC1 = Tr(Σ_W Σ_B⁺)/C = Σ_k (u_kᵀ Σ_W u_k)/s_k² with Σ_W = ZᵀZ/N and Σ_B = M̃M̃ᵀ/C = U diag(s²/C) Uᵀ.
  m.nc1 = r == 0 ? kNaN : 0.0;
  for (size_t k = 0; k < r; ++k) m.nc1 += st.projected_ss[k] / (double(st.n) * st.singular[k] * st.singular[k]);

  const std::vector<double> mt = centred_means(st);
  const std::vector<double> gm = gram(backend, mt, C, mt, C, d);  // M̃ᵀM̃
  double within_total = 0, between_total = 0;
  for (size_t c = 0; c < C; ++c) {
    within_total += st.class_ss[c];
    between_total += gm[c * C + c];
  }
  m.nc1_quotient = (within_total / double(st.n)) / (between_total / double(C));

  double cdnv = 0;
  for (size_t a = 0; a < C; ++a) {
    for (size_t b = a + 1; b < C; ++b) {
      double dist2 = 0;
      for (size_t j = 0; j < d; ++j) {
        const double diff = st.means[a * d + j] - st.means[b * d + j];
        dist2 += diff * diff;
      }
      cdnv += (st.class_ss[a] / st.counts[a] + st.class_ss[b] / st.counts[b]) / (2 * dist2);
    }
  }
  m.nc1_cdnv = cdnv / (double(C * (C - 1)) / 2);

  m.nc2_equinorm_means = coefficient_of_variation(row_norms(mt, C, d));
  m.nc2_equiangularity_means = equiangularity(gm, C);
  m.nc2_etf_error_means = etf_distance(gm, C);
  m.gnc2_hyperspherical_uniformity = gnc2_hyperspherical_uniformity(mt.data(), C, d);
  m.unc3_uniform_duality = weights ? unc3_uniform_duality(mt.data(), weights, C, d) : kNaN;

  m.nc2_equinorm_weights = m.nc2_etf_error_weights = m.nc3_self_duality = m.nc3_papyan = m.nc4_bias_relation = kNaN;
  if (weights != nullptr) {
    const std::vector<double> w(weights, weights + C * d);
    m.nc2_equinorm_weights = coefficient_of_variation(row_norms(w, C, d));
    m.nc2_etf_error_weights = etf_distance(gram(backend, w, C, w, C, d), C);
    m.nc3_self_duality = etf_distance(gram(backend, w, C, mt, C, d), C);  // W M̃
    const double wn = frobenius(w), mn = frobenius(mt);
    double papyan = 0;
    for (size_t k = 0; k < C * d; ++k) {
      const double diff = w[k] / wn - mt[k] / mn;
      papyan += diff * diff;
    }
    m.nc3_papyan = papyan;
    double bias_relation = 0;
    for (size_t c = 0; c < C; ++c) {
      const double v = dot(&w[c * d], st.global_mean.data(), d) + (bias ? bias[c] : 0.0);
      bias_relation += v * v;
    }
    m.nc4_bias_relation = std::sqrt(bias_relation);
  }
  m.nc4_ncc_agreement = st.ncc_agreement < 0 ? kNaN : st.ncc_agreement;

  m.nc5_ood_orthogonality = kNaN;
  if (!st.ood_mean.empty()) {
    const double on = std::sqrt(dot(st.ood_mean.data(), st.ood_mean.data(), d));
    double sum = 0;
    for (size_t c = 0; c < C; ++c) {
      const double* mu = &st.means[c * d];
      sum += std::fabs(dot(mu, st.ood_mean.data(), d) / (std::sqrt(dot(mu, mu, d)) * on));
    }
    m.nc5_ood_orthogonality = sum / double(C);
  }
  return m;
}

NcMetrics compute_nc_metrics(Backend& backend, const NcInputs& in, const RunContext& context) {
  check_nc_inputs(in);
  const size_t C = in.num_classes, d = in.data.dim, n = in.data.rows;
  const bool with_ood = in.ood != nullptr;
  const bool with_agreement = in.weights != nullptr;

  // Pass 1: counts and means (and the OOD mean).
  ClassStatsOptions first;
  first.num_classes = C;
  ClassStats cs = compute_class_stats(backend, in.data, first, context.stage(0.0, 0.45));
  NcSufficientStats st;
  st.n = n;
  st.dim = d;
  st.classes = C;
  st.counts = std::move(cs.counts);
  st.means = std::move(cs.means);
  if (with_ood) {
    std::vector<int32_t> zeros(in.ood_rows, 0);
    ClassStatsOptions ood_options;
    ood_options.num_classes = 1;
    ood_options.what = "oodFeatures";
    ClassStats ood = compute_class_stats(backend, LabelledRows{in.ood, zeros.data(), in.ood_rows, d}, ood_options,
                                         context.stage(0.45, 0.5));
    st.ood_mean = std::move(ood.means);
  }
  derive_subspace(backend, st, in.weighted_global_mean, in.rank_tolerance);
  const size_t r = st.singular.size();

  // Pass 2: rows centred at their class means, projected on [U | means | weights] in one product.
  std::vector<double> w64, b64(C, 0.0);
  if (in.weights) w64.assign(in.weights, in.weights + C * d);
  if (in.bias) b64.assign(in.bias, in.bias + C);
  const size_t p = r + (with_agreement ? 2 * C : 0);
  std::vector<float> basis(d * p);
  for (size_t j = 0; j < d; ++j) {
    for (size_t k = 0; k < r; ++k) basis[j * p + k] = float(st.subspace[k * d + j]);
    if (with_agreement) {
      for (size_t c = 0; c < C; ++c) basis[j * p + r + c] = float(st.means[c * d + j]);
      for (size_t c = 0; c < C; ++c) basis[j * p + r + C + c] = float(w64[c * d + j]);
    }
  }
  // Nearest class mean: argmax_c 2·h·μ_c − ‖μ_c‖² with h·μ_c = z·μ_c + μ_y·μ_c.
  // Classifier: argmax_c w_c·h + b_c with w_c·h = w_c·z + w_c·μ_y.
  std::vector<double> ncc_table, logit_table;
  std::vector<int32_t> ncc_pred, clf_pred;
  CentredRequest request;
  request.means = st.means.data();
  st.class_ss.assign(C, 0.0);
  st.projected_ss.assign(r, 0.0);
  request.class_sq_norms = st.class_ss.data();
  request.basis = p > 0 ? basis.data() : nullptr;
  request.basis_cols = p;
  request.projection_sq_sums = st.projected_ss.data();
  request.sq_cols = r;
  if (with_agreement) {
    const std::vector<double> mm = gram(backend, st.means, C, st.means, C, d);
    const std::vector<double> wm = gram(backend, st.means, C, w64, C, d);  // [y, c] = μ_y·w_c
    ncc_table.resize(C * C);
    logit_table.resize(C * C);
    for (size_t y = 0; y < C; ++y) {
      for (size_t c = 0; c < C; ++c) {
        ncc_table[y * C + c] = 2 * mm[y * C + c] - mm[c * C + c];
        logit_table[y * C + c] = wm[y * C + c] + b64[c];
      }
    }
    ncc_pred.assign(n, -1);
    clf_pred.assign(n, -1);
    request.argmax.push_back(ArgmaxBlock{r, C, 2.0, ncc_table.data(), nullptr});
    request.argmax.push_back(ArgmaxBlock{r + C, C, 1.0, logit_table.data(), nullptr});
  }
  for_each_chunk(in.data, context, 0.5, 1.0, [&](const LabelledRows& chunk, size_t start) {
    CentredRequest part = request;
    if (with_agreement) {
      part.argmax[0].out = ncc_pred.data() + start;
      part.argmax[1].out = clf_pred.data() + start;
    }
    backend.accumulate_centred(chunk, C, part);
  });
  if (with_agreement) {
    size_t agree = 0;
    for (size_t i = 0; i < n; ++i) agree += ncc_pred[i] == clf_pred[i];
    st.ncc_agreement = double(agree) / double(n);
  }
  return assemble_nc_metrics(backend, st, in.weights ? w64.data() : nullptr, in.bias ? b64.data() : nullptr);
}

size_t ncc_agreement_count(Backend& backend, const float* x, size_t rows, size_t d, const double* means,
                           const float* weights, const float* bias, size_t C, const RunContext& context) {
  if (d < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
  if (C < 1) fail(ErrorCode::InvalidArgument, "numClasses", "at least 1", "0");
  check_finite("means", means, C, d);
  check_finite("weights", weights, C, d);
  if (bias) check_finite("bias", bias, 1, C);
  check_finite("features", x, rows, d);
  if (rows == 0) return 0;
  // One "class" for the centring kernel: every row is centred at c̄, the mean of the class means, so that
  // x·v = z·v + c̄·v with z = x − c̄ small; the c̄ parts go into per-class offsets.
  std::vector<double> centre(d, 0.0);
  for (size_t c = 0; c < C; ++c)
    for (size_t j = 0; j < d; ++j) centre[j] += means[c * d + j] / double(C);
  const size_t p = 2 * C;
  std::vector<float> basis(d * p);  // [means | weights], d×2C
  for (size_t j = 0; j < d; ++j) {
    for (size_t c = 0; c < C; ++c) basis[j * p + c] = float(means[c * d + j]);
    for (size_t c = 0; c < C; ++c) basis[j * p + C + c] = weights[c * d + j];
  }
  // Offset tables are C×C (row y for label y) as ArgmaxBlock requires, and the CUDA backend copies them whole; every
  // row here is labelled 0, so only row 0 is read, but all rows hold the same offsets.
  std::vector<double> ncc_table(C * C), logit_table(C * C);
  for (size_t c = 0; c < C; ++c) {
    const double* mu = means + c * d;
    double cm = 0, cw = 0;
    for (size_t j = 0; j < d; ++j) {
      cm += centre[j] * mu[j];
      cw += centre[j] * double(weights[c * d + j]);
    }
    ncc_table[c] = 2 * cm - dot(mu, mu, d);  // 2x·μ_c − ‖μ_c‖² = 2z·μ_c + (2c̄·μ_c − ‖μ_c‖²)
    logit_table[c] = cw + (bias ? double(bias[c]) : 0.0);
  }
  for (size_t y = 1; y < C; ++y) {
    std::copy(ncc_table.begin(), ncc_table.begin() + C, ncc_table.begin() + y * C);
    std::copy(logit_table.begin(), logit_table.begin() + C, logit_table.begin() + y * C);
  }
  const std::vector<int32_t> zeros(rows, 0);
  std::vector<int32_t> ncc_pred(rows, -1), clf_pred(rows, -1);
  CentredRequest request;
  request.means = centre.data();
  request.basis = basis.data();
  request.basis_cols = p;
  request.argmax.push_back(ArgmaxBlock{0, C, 2.0, ncc_table.data(), nullptr});
  request.argmax.push_back(ArgmaxBlock{C, C, 1.0, logit_table.data(), nullptr});
  for_each_chunk(LabelledRows{x, zeros.data(), rows, d}, context, 0.0, 1.0, [&](const LabelledRows& chunk, size_t start) {
    CentredRequest part = request;
    part.argmax[0].out = ncc_pred.data() + start;
    part.argmax[1].out = clf_pred.data() + start;
    backend.accumulate_centred(chunk, 1, part);
  });
  size_t agree = 0;
  for (size_t i = 0; i < rows; ++i) agree += ncc_pred[i] == clf_pred[i];
  return agree;
}

}  // namespace ncod
