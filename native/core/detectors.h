// OOD detectors (higher score = more in-distribution): argument checks, fitting, and chunked scoring over the
// Backend kernels. Written once; runs on every backend.
//
//   MSP       max_c softmax(z)_c
//   MaxLogit  max_c z_c
//   Energy    T·log Σ_c exp(z_c / T)                       (Liu et al. 2020; max-subtracted)
//   GEN       −Σ_{top-M p} p^γ (1 − p)^γ                    (Liu et al. 2023; γ = 0.1, M = min(100, C) by default)
//   Entropy   −H(softmax(z / T)) = Σ_c p_c log p_c           (as pytorch-ood, oodeel, torch-uncertainty; T = 1)
//   ReAct     any of the above on clip(x, max = c) Wᵀ + b   (Sun et al. 2021)
//   Mahalanobis           −min_c (x − μ_c)ᵀ Σ_r⁻¹ (x − μ_c)           (Lee et al. 2018, tied covariance)
//   Relative Mahalanobis  −min_c [MD_c(x) − MD_0(x)], MD_0 with the global mean and covariance (Ren et al. 2021)
//   KNN       the k-th largest cosine similarity to the fit set (Sun et al. 2022; equals 1 − ½·(k-th smallest
//             distance)² of the normalised vectors, a monotone map of their −distance score)
//
// Covariances are MLE (divided by N, as sklearn's EmpiricalCovariance in Lee et al.'s code). Σ_r adds a relative
// ridge to every eigenvalue, λ_i + ridge·λ_max (default ridge 1e-6), so rank-deficient covariances (N ≤ d,
// collapsed features) stay invertible and the score is invariant to scaling the features. covariance 'pinv' uses the
// pseudo-inverse instead (CovarianceOptions).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "backend.h"
#include "run_context.h"

namespace ncod {

class FittedHead;      // detectors/fitted_head.h: a linear head prepared once per backend
class FittedWhitened;  // detectors/fitted_whitened.h: whitened centres prepared once per backend

// The public logit scores by name (LogitScore is in backend.h), as the binding and lib/ood/method-names.ts
// LOGIT_METHODS spell them, in LogitScore order.
inline constexpr std::pair<const char*, LogitScore> kLogitScoreNames[] = {
    {"msp", LogitScore::Msp}, {"maxlogit", LogitScore::MaxLogit}, {"energy", LogitScore::Energy},
    {"gen", LogitScore::Gen}, {"entropy", LogitScore::Entropy}};

// Fills the defaults (top = min(100, C)) and checks spec for C classes; throws ERR_INVALID_ARGUMENT.
LogitScoreSpec checked_logit_spec(LogitScoreSpec spec, size_t classes);

std::vector<double> score_logits(Backend& backend, const float* logits, size_t rows, size_t classes,
                                 const LogitScoreSpec& spec, const RunContext& context);

// Scores through a linear head: detectors/fitted_head.h head_scores.

// Decision-boundary scores from features x, a head (W, b) and the ID training mean μ (d, float64):
//   fDBD (Liu & Qin 2024): mean over c ≠ ŷ of (z_ŷ − z_c)/‖w_ŷ − w_c‖, divided by ‖x − μ‖
//   NCI (Liu & Qin 2025):  w_ŷ·(x − μ)/‖x − μ‖ + α‖x‖₁
// A row exactly at μ scores 0 in the ratio term. fDBD needs pairwise distinct weight rows (ERR_INVALID_ARGUMENT).
// The head's clip applies (a fitted fDBD/NCI head has none).
enum class DecisionScore : int { Fdbd = 0, Nci = 1 };
inline constexpr std::pair<const char*, DecisionScore> kDecisionScoreNames[] = {{"fdbd", DecisionScore::Fdbd},
                                                                               {"nci", DecisionScore::Nci}};
std::vector<double> decision_scores(BackendKind backend, const float* x, size_t rows, FittedHead& head,
                                    const double* mean, DecisionScore kind, double alpha, const RunContext& context);

// A fitted whitened-distance model: shift (d), whitening L (p×d), centres C×p, all float64. Fitting makes L upper
// triangular (the R of a QR factorisation: the same distances), which the CPU kernel multiplies by in half the time.
struct WhitenedModel {
  size_t dim = 0, dims = 0, count = 0;
  std::vector<double> shift, whitening, centres;
  WhitenedCentres view() const;  // finds out whether L is upper triangular (a model may come back from JS)
};

struct MahalanobisModel {
  WhitenedModel classes;
  WhitenedModel background;  // count == 0 unless relative
};

// How a Mahalanobis covariance Σ (the tied one, and the global one when relative) is inverted. λ are Σ's eigenvalues.
//   Ridge: Σ_r⁻¹, every λ_i replaced by max(λ_i, 0) + ridge·λ_max (the default, ridge 1e-6).
//   Pinv:  the pseudo-inverse Σ⁺ as scipy.linalg.pinvh computes it with its default tolerance (scikit-learn's
//          EmpiricalCovariance precision, OpenOOD's Mahalanobis): eigenvalues λ_i <= rcond·λ_max with rcond = d·ε,
//          ε = 2^−52 (float64), are dropped and the rest inverted, so distances are measured in Σ's range only. On a
//          rank-deficient Σ (N <= d, features confined to a subspace) this differs from ridge → 0, which penalises
//          the null directions by 1/(ridge·λ_max). (pinvh cuts |λ_i| <= rcond·max|λ|: the same for a covariance, whose
//          negative eigenvalues are rounding, far below the cut; here they are always dropped.)
enum class CovarianceInverse : int { Ridge = 0, Pinv = 1 };
// As lib/ood/method-names.ts COVARIANCES spells them (the first is the default).
inline constexpr std::pair<const char*, CovarianceInverse> kCovarianceNames[] = {{"ridge", CovarianceInverse::Ridge},
                                                                                {"pinv", CovarianceInverse::Pinv}};
struct CovarianceOptions {
  CovarianceInverse kind = CovarianceInverse::Ridge;
  double ridge = 1e-6;  // Ridge only
};

MahalanobisModel fit_mahalanobis(Backend& backend, const LabelledRows& data, size_t num_classes, bool relative,
                                 const CovarianceOptions& covariance, const RunContext& context);

// Moments about a shift K, as an NcAccumulator keeps them (float64, exactly mergeable): per class the count n_c and
// s_c = Σ_{y_i = c} (x_i − K), and S = Σ_i (x_i − K)(x_i − K)ᵀ over all rows. A fit from batches accumulates these in
// one pass and derives the model from them, so its memory is O(d² + C·d) whatever N is.
struct ShiftedMoments {
  size_t dim = 0, classes = 0;
  std::vector<double> shift;    // K (d)
  std::vector<double> counts;   // C
  std::vector<double> sums;     // C×d
  std::vector<double> scatter;  // d×d
};

// Checks lengths, finiteness and counts (non-negative integers, a positive total); ERR_SHAPE / ERR_NOT_FINITE /
// ERR_INVALID_ARGUMENT. With require_all_classes, an empty class is ERR_EMPTY_CLASS.
void check_moments(const ShiftedMoments& m, bool require_all_classes);

// The same model as fit_mahalanobis on the rows the moments summarise: μ_c = K + s_c/n_c, the within-class scatter
// S − Σ_c s_c s_cᵀ/n_c (both about K, so the subtraction loses only ‖μ_c − K‖²/σ² digits, harmless in float64).
MahalanobisModel mahalanobis_from_moments(Backend& backend, const ShiftedMoments& moments, bool relative,
                                          const CovarianceOptions& covariance);

// −min_c ‖L(x − shift) − centre_c‖², plus the background distance when background is given (of the same dim).
std::vector<double> mahalanobis_scores(BackendKind backend, const float* x, size_t rows, FittedWhitened& classes,
                                       FittedWhitened* background, const RunContext& context);

// Principal directions of features for ViM, Residual (Wang et al. 2022) and NECO (Ammar et al. 2024).
// shift: −pinv(W) b when a head is given (ViM's origin, bias zero when absent), else the sample mean.
// Σ = (1/N) Σ_i (x_i − shift)(x_i − shift)ᵀ; with standardise, Σ ← D⁻¹ Σ D⁻¹ for the per-feature population
// standard deviations D (1 where a feature is constant), as sklearn's StandardScaler before PCA.
// Eigenpairs in descending order; eigenvector i is row i of eigenvectors (d×d).
struct Subspace {
  std::vector<double> shift, scale, eigenvalues, eigenvectors;
};
Subspace fit_subspace(Backend& backend, const float* x, size_t rows, size_t dim, const float* weights,
                      const float* bias, size_t classes, bool standardise, const RunContext& context);

// The same from one-class moments (moments.classes == 1): mean K + s/n, covariance about it S/n − (s/n)(s/n)ᵀ.
Subspace subspace_from_moments(const ShiftedMoments& moments, const float* weights, const float* bias, size_t classes,
                               bool standardise);

// Scores over a fitted subspace, in one pass of row chunks (each chunk: the projection's squared norm
// p = ‖L (x − shift)‖² from min_whitened_sq_distances with one centre at the origin, and the head's logit score):
//   ViM       energy(x) − α·√p   (L: the residual directions)
//   Residual  −√p
//   NECO      √(p / ‖z‖²)·maxLogit(x) (the factor only with multiply_max_logit), z = (x − shift)/scale, 0 when z = 0
//             (L: the kept directions, divided by scale per column)
enum class SubspaceScore : int { Vim = 0, Residual = 1, Neco = 2 };
inline constexpr std::pair<const char*, SubspaceScore> kSubspaceScoreNames[] = {
    {"vim", SubspaceScore::Vim}, {"residual", SubspaceScore::Residual}, {"neco", SubspaceScore::Neco}};
struct SubspaceScoreSpec {
  SubspaceScore kind = SubspaceScore::Vim;
  double alpha = 0;                 // ViM
  bool multiply_max_logit = true;   // NECO
  std::vector<double> shift, scale; // NECO (d each)
};
// The head (of the projection's dim) is read only by ViM and by NECO with multiply_max_logit; its clip applies.
std::vector<double> subspace_scores(BackendKind backend, const float* x, size_t rows, FittedWhitened& projection,
                                    FittedHead& head, const SubspaceScoreSpec& spec, const RunContext& context);

// Rows scaled to unit L2 norm (in float64, stored as float32); all-zero rows stay zero. Checks finiteness.
std::vector<float> l2_normalised(const char* what, const float* x, size_t rows, size_t dim);

// KNN's fitted state and scores: detectors/knn_bank.h.

}  // namespace ncod
