// OOD detectors: scoreLogits, mahalanobisFit/Score, subspaceFit/Scores, decisionScores (see binding.d.ts for
// signatures). Fitted state lives in handles (LinearHead, WhitenedCentres: handles.h; KNN's bank: knn_bank_binding.cpp)
// that the score calls take in their options.
// Every call validates its arguments here (throws synchronously) and runs the work in a PromiseWorker.
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "../core/backend.h"
#include "../core/checks.h"
#include "../core/chunks.h"
#include "../core/detectors.h"
#include "bindings.h"
#include "convert.h"
#include "../core/detectors/fitted_head.h"
#include "../core/detectors/fitted_whitened.h"
#include "../core/detectors/prepared_slots.h"
#include "handles.h"
#include "options_reader.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace ncod::binding {

namespace {

double number(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsNumber()) throw_error(env, ErrorCode::InvalidArgument, std::string(what) + ": expected a number");
  return value.As<Napi::Number>().DoubleValue();
}

// A rows×dim float32 matrix argument.
const float* matrix(Napi::Env env, Napi::Value value, const char* what, size_t rows, size_t dim) {
  auto view = float32_array(env, value, what);
  check_matrix_length(what, view.length, rows, dim);
  return view.data;
}

// ridge and covariance (0 ridge, 1 pinv) from two arguments; core/detectors/mahalanobis.cpp checks the values again.
CovarianceOptions covariance_options(Napi::Env env, Napi::Value ridge, Napi::Value kind) {
  CovarianceOptions o;
  o.ridge = number(env, ridge, "ridge");
  o.kind = static_cast<CovarianceInverse>(count(env, kind, "covariance", 1));
  return o;
}

BackendKind backend_kind(Napi::Env env, Napi::Value value) {
  return static_cast<BackendKind>(count(env, value, "backend", 1));
}

// A copied Float64Array property of a model object, with the expected length.
std::vector<double> float64_property(Napi::Env env, Napi::Object o, const char* key, size_t length) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_error(env, ErrorCode::Dtype, std::string("model.") + key + ": expected Float64Array");
  }
  auto a = v.As<Napi::Float64Array>();
  if (a.ElementLength() != length) {
    fail(ErrorCode::Shape, std::string("model.") + key, std::to_string(length) + " elements",
         std::to_string(a.ElementLength()) + " elements");
  }
  return std::vector<double>(a.Data(), a.Data() + length);
}

Napi::Object whitened_to_js(Napi::Env env, const WhitenedModel& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("dim", double(m.dim));
  o.Set("dims", double(m.dims));
  o.Set("count", double(m.count));
  o.Set("shift", to_float64_array(env, std::vector<double>(m.shift)));
  o.Set("whitening", to_float64_array(env, std::vector<double>(m.whitening)));
  o.Set("centres", to_float64_array(env, std::vector<double>(m.centres)));
  return o;
}

// A copied Float64Array argument of the expected length (ERR_DTYPE / ERR_SHAPE otherwise).
std::vector<double> float64_argument(Napi::Env env, Napi::Value value, const char* what, size_t length,
                                     const std::string& expected) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_error(env, ErrorCode::Dtype, std::string(what) + ": expected Float64Array");
  }
  auto a = value.As<Napi::Float64Array>();
  if (a.ElementLength() != length) fail(ErrorCode::Shape, what, expected, std::to_string(a.ElementLength()) + " elements");
  return std::vector<double>(a.Data(), a.Data() + length);
}

// Moments about a shift from arguments [first, first + 4): shift (d), counts (C), sums (C×d), scatter (d×d).
ShiftedMoments moments_arguments(Napi::Env env, const Napi::CallbackInfo& info, size_t first, size_t dim, size_t classes) {
  ShiftedMoments m;
  m.dim = dim;
  m.classes = classes;
  const std::string d = std::to_string(dim), c = std::to_string(classes);
  m.shift = float64_argument(env, info[first], "shift", dim, d + " elements (dim)");
  m.counts = float64_argument(env, info[first + 1], "counts", classes, c + " elements (numClasses)");
  m.sums = float64_argument(env, info[first + 2], "sums", classes * dim, c + "×" + d + " elements (numClasses × dim)");
  m.scatter = float64_argument(env, info[first + 3], "scatter", dim * dim, d + "×" + d + " elements (dim × dim)");
  return m;
}

Napi::Object subspace_to_js(Napi::Env env, Subspace& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("shift", to_float64_array(env, std::move(s.shift)));
  out.Set("scale", to_float64_array(env, std::move(s.scale)));
  out.Set("eigenvalues", to_float64_array(env, std::move(s.eigenvalues)));
  out.Set("eigenvectors", to_float64_array(env, std::move(s.eigenvectors)));
  return out;
}

Napi::Object mahalanobis_to_js(Napi::Env env, const MahalanobisModel& model) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("classes", whitened_to_js(env, model.classes));
  out.Set("background", model.background.count > 0 ? Napi::Value(whitened_to_js(env, model.background)) : env.Null());
  return out;
}

}  // namespace

ScoreRun score_run_options(OptionsReader& o) {
  ScoreRun run;
  run.backend = o.optional_backend();
  run.cancel = o.cancel_flag();
  run.progress = o.progress();
  return run;
}

Napi::Promise scores_promise(Napi::Env env, const char* name, std::vector<Napi::Value> keep, const int32_t* cancel,
                             Napi::Function on_progress, std::function<std::vector<double>(const RunContext&)> run) {
  auto result = std::make_shared<std::vector<double>>();
  return PromiseWorker::Start(
      env, name, std::move(keep), cancel, on_progress,
      [result, run](const RunContext& context) { *result = run(context); },
      [result](Napi::Env env) -> Napi::Value { return to_float64_array(env, std::move(*result)); });
}


// scoreLogits({ logits, rows, classes, kind: 'msp' | 'maxlogit' | 'energy' | 'gen' | 'entropy', temperature?, gamma?,
//               topM?, backend?, cancelFlag?, onProgress? }) -> Promise<Float64Array>
Napi::Value ScoreLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "scoreLogits");
    auto logits = o.float32_array("logits");
    const size_t rows = o.size("rows");
    const size_t classes = o.positive_size("classes", size_t(1) << 24);
    const LogitScoreSpec spec = logit_spec_option(o, classes);
    const ScoreRun run = score_run_options(o);
    check_matrix_length("logits", logits.length, rows, classes);
    const float* x = logits.data;
    return scores_promise(o, "ncod.scoreLogits", run, [=, backend = run.backend](const RunContext& context) {
      return score_logits(get_backend(backend), x, rows, classes, spec, context);
    });
  });
}

// decisionScores({ features, rows, head: LinearHead, mean (Float64Array dim), kind: 'fdbd' | 'nci', alpha?, backend?,
//                  cancelFlag?, onProgress? }) -> Promise<Float64Array>
Napi::Value DecisionScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "decisionScores");
    auto features = o.float32_array("features");
    const size_t rows = o.size("rows");
    std::shared_ptr<FittedHead> head = head_option(o, "head");
    const size_t dim = head->dim();
    auto mean = std::make_shared<std::vector<double>>(o.float64_vector("mean", dim, std::to_string(dim) + " elements (the head's dim)"));
    const DecisionScore kind = o.enum_of("kind", kDecisionScoreNames);
    const double alpha = o.optional_number("alpha", 0.0);
    const ScoreRun run = score_run_options(o);
    check_matrix_length("features", features.length, rows, dim);
    const float* x = features.data;
    return scores_promise(o, "ncod.decisionScores", run, [=, backend = run.backend](const RunContext& context) {
      return decision_scores(backend, x, rows, *head, mean->data(), kind, alpha, context);
    });
  });
}

// mahalanobisFit(features, labels, rows, dim, numClasses, relative, ridge, covariance, backend, cancelFlag, onProgress)
//   -> Promise<{ classes: model, background: model | null }>
Napi::Value MahalanobisFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 11, "mahalanobisFit");
    const size_t rows = count(env, info[2], "rows");
    const size_t dim = count(env, info[3], "dim", size_t(1) << 16);
    const float* x = matrix(env, info[0], "features", rows, dim);
    auto labels = int32_array(env, info[1], "labels");
    check_label_count(labels.length, rows);
    const size_t C = count(env, info[4], "numClasses", size_t(1) << 20);
    if (C < 1) fail(ErrorCode::InvalidArgument, "numClasses", "an integer >= 1", "0");
    const bool relative = boolean(env, info[5], "relative");
    const CovarianceOptions covariance = covariance_options(env, info[6], info[7]);
    const BackendKind kind = backend_kind(env, info[8]);
    const LabelledRows data{x, labels.data, rows, dim};
    auto model = std::make_shared<MahalanobisModel>();
    return PromiseWorker::Start(
        env, "ncod.mahalanobisFit", {info[0], info[1], info[9]}, cancel_flag(env, info[9], "cancelFlag"),
        optional_function(env, info[10], "onProgress"),
        [=](const RunContext& context) {
          *model = fit_mahalanobis(get_backend(kind), data, C, relative, covariance, context);
        },
        [model](Napi::Env env) -> Napi::Value { return mahalanobis_to_js(env, *model); });
  });
}

// mahalanobisFitMoments(shift, counts, sums, scatter, dim, numClasses, relative, ridge, covariance, backend)
//   -> Promise<{ classes: model, background: model | null }>; the moments as ShiftedMoments (detectors.h).
Napi::Value MahalanobisFitMoments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 10, "mahalanobisFitMoments");
    const size_t dim = count(env, info[4], "dim", size_t(1) << 14);
    if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
    const size_t C = count(env, info[5], "numClasses", size_t(1) << 20);
    if (C < 1) fail(ErrorCode::InvalidArgument, "numClasses", "an integer >= 1", "0");
    auto moments = std::make_shared<ShiftedMoments>(moments_arguments(env, info, 0, dim, C));
    const bool relative = boolean(env, info[6], "relative");
    const CovarianceOptions covariance = covariance_options(env, info[7], info[8]);
    const BackendKind kind = backend_kind(env, info[9]);
    auto model = std::make_shared<MahalanobisModel>();
    return PromiseWorker::Start(
        env, "ncod.mahalanobisFitMoments", {}, nullptr, Napi::Function(),
        [=](const RunContext&) { *model = mahalanobis_from_moments(get_backend(kind), *moments, relative, covariance); },
        [model](Napi::Env env) -> Napi::Value { return mahalanobis_to_js(env, *model); });
  });
}

// mahalanobisScore({ features, rows, classes: WhitenedCentres, background?: WhitenedCentres | null, backend?,
//                    cancelFlag?, onProgress? }) -> Promise<Float64Array>
Napi::Value MahalanobisScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "mahalanobisScore");
    auto features = o.float32_array("features");
    const size_t rows = o.size("rows");
    std::shared_ptr<FittedWhitened> classes = whitened_option(o, "classes");
    const Napi::Value given_background = o.value("background");
    std::shared_ptr<FittedWhitened> background =
        given_background.IsNull() || given_background.IsUndefined() ? nullptr : whitened_option(o, "background");
    const ScoreRun run = score_run_options(o);
    check_matrix_length("features", features.length, rows, classes->dim());
    if (background && background->dim() != classes->dim()) {
      fail(ErrorCode::Shape, o.field("background"), "dim " + std::to_string(classes->dim()), "dim " + std::to_string(background->dim()));
    }
    const float* x = features.data;
    return scores_promise(o, "ncod.mahalanobisScore", run, [=, backend = run.backend](const RunContext& context) {
      return mahalanobis_scores(backend, x, rows, *classes, background.get(), context);
    });
  });
}

// subspaceFit(features, rows, dim, weights|null, bias|null, classes, standardise, backend, cancelFlag, onProgress)
//   -> Promise<{ shift, scale, eigenvalues, eigenvectors }>
Napi::Value SubspaceFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 10, "subspaceFit");
    const size_t rows = count(env, info[1], "rows");
    const size_t dim = count(env, info[2], "dim", size_t(1) << 16);
    const float* x = matrix(env, info[0], "features", rows, dim);
    const size_t classes = count(env, info[5], "classes", size_t(1) << 24);
    const float* weights = nullptr;
    const float* bias = nullptr;
    if (!info[3].IsNull() && !info[3].IsUndefined()) {
      if (classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1 with weights", "0");
      weights = matrix(env, info[3], "weights", classes, dim);
      if (!info[4].IsNull() && !info[4].IsUndefined()) bias = matrix(env, info[4], "bias", 1, classes);
    }
    const bool standardise = boolean(env, info[6], "standardise");
    const BackendKind kind = backend_kind(env, info[7]);
    auto result = std::make_shared<Subspace>();
    return PromiseWorker::Start(
        env, "ncod.subspaceFit", {info[0], info[3], info[4], info[8]}, cancel_flag(env, info[8], "cancelFlag"),
        optional_function(env, info[9], "onProgress"),
        [=](const RunContext& context) {
          check_finite("features", x, rows, dim);
          *result = fit_subspace(get_backend(kind), x, rows, dim, weights, bias, classes, standardise, context);
        },
        [result](Napi::Env env) -> Napi::Value { return subspace_to_js(env, *result); });
  });
}

// subspaceFitMoments(shift, count, sums, scatter, dim, weights|null, bias|null, classes, standardise, backend)
//   -> Promise<{ shift, scale, eigenvalues, eigenvectors }>; one-class moments (count a number, sums d).
Napi::Value SubspaceFitMoments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 10, "subspaceFitMoments");
    const size_t dim = count(env, info[4], "dim", size_t(1) << 14);
    if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
    auto moments = std::make_shared<ShiftedMoments>();
    moments->dim = dim;
    moments->classes = 1;
    const std::string d = std::to_string(dim);
    moments->shift = float64_argument(env, info[0], "shift", dim, d + " elements (dim)");
    moments->counts = {number(env, info[1], "count")};
    moments->sums = float64_argument(env, info[2], "sums", dim, d + " elements (dim)");
    moments->scatter = float64_argument(env, info[3], "scatter", dim * dim, d + "×" + d + " elements (dim × dim)");
    const size_t classes = count(env, info[7], "classes", size_t(1) << 24);
    const float* weights = nullptr;
    const float* bias = nullptr;
    if (!info[5].IsNull() && !info[5].IsUndefined()) {
      if (classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1 with weights", "0");
      weights = matrix(env, info[5], "weights", classes, dim);
      if (!info[6].IsNull() && !info[6].IsUndefined()) bias = matrix(env, info[6], "bias", 1, classes);
    }
    const bool standardise = boolean(env, info[8], "standardise");
    backend_kind(env, info[9]);  // checked; the derivation is small dense linear algebra on the CPU
    auto result = std::make_shared<Subspace>();
    return PromiseWorker::Start(
        env, "ncod.subspaceFitMoments", {info[5], info[6]}, nullptr, Napi::Function(),
        [=](const RunContext&) { *result = subspace_from_moments(*moments, weights, bias, classes, standardise); },
        [result](Napi::Env env) -> Napi::Value { return subspace_to_js(env, *result); });
  });
}

// subspaceScores({ features, rows, projection: WhitenedCentres, head: LinearHead, kind: 'vim' | 'residual' | 'neco',
//                  alpha?, shift?, scale?, multiplyMaxLogit?, backend?, cancelFlag?, onProgress? }) -> Promise<Float64Array>
Napi::Value SubspaceScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "subspaceScores");
    auto features = o.float32_array("features");
    const size_t rows = o.size("rows");
    std::shared_ptr<FittedWhitened> projection = whitened_option(o, "projection");
    std::shared_ptr<FittedHead> head = head_option(o, "head");
    const size_t dim = projection->dim();
    auto spec = std::make_shared<SubspaceScoreSpec>();
    spec->kind = o.enum_of("kind", kSubspaceScoreNames);
    if (spec->kind == SubspaceScore::Vim) spec->alpha = o.number("alpha");
    if (spec->kind == SubspaceScore::Neco) {
      const std::string d = std::to_string(dim) + " elements (dim)";
      spec->shift = o.float64_vector("shift", dim, d);
      spec->scale = o.float64_vector("scale", dim, d);
      spec->multiply_max_logit = o.optional_boolean("multiplyMaxLogit", true);
    }
    const ScoreRun run = score_run_options(o);
    check_matrix_length("features", features.length, rows, dim);
    if (head->dim() != dim) fail(ErrorCode::Shape, o.field("head"), "dim " + std::to_string(dim) + " (the projection's)", "dim " + std::to_string(head->dim()));
    const float* x = features.data;
    return scores_promise(o, "ncod.subspaceScores", run, [=, backend = run.backend](const RunContext& context) {
      return subspace_scores(backend, x, rows, *projection, *head, *spec, context);
    });
  });
}

// preparedStateCount() -> number: how many prepared objects (Backend::prepare_*) fitted state has made in this
// process (core/detectors/prepared_slots.h), for tests proving that scoring many chunks prepares once.
Napi::Value PreparedStateCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(prepared_state_count().load()));
}

}  // namespace ncod::binding
