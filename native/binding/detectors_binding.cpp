// OOD detectors: scoreLogits, linearScores, mahalanobisFit/Score, subspaceFit, decisionScores (see binding.d.ts for
// signatures; KNN's bank is a class of its own, knn_bank_binding.cpp).
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
#include "detector_options.h"
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

// kind, temperature, gamma, top from four consecutive arguments.
LogitScoreSpec logit_spec(Napi::Env env, const Napi::CallbackInfo& info, size_t first, size_t classes) {
  LogitScoreSpec s;
  s.kind = static_cast<LogitScore>(count(env, info[first], "kind", kPublicLogitScores - 1));
  s.temperature = number(env, info[first + 1], "temperature");
  s.gamma = number(env, info[first + 2], "gamma");
  s.top = count(env, info[first + 3], "topM", size_t(1) << 31);
  return checked_logit_spec(s, classes);
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

WhitenedModel whitened_from_js(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw_error(env, ErrorCode::InvalidArgument, "model: expected a fitted model object");
  Napi::Object o = value.As<Napi::Object>();
  WhitenedModel m;
  m.dim = count(env, o.Get("dim"), "model.dim", size_t(1) << 20);
  m.dims = count(env, o.Get("dims"), "model.dims", size_t(1) << 20);
  m.count = count(env, o.Get("count"), "model.count", size_t(1) << 24);
  if (m.dim == 0 || m.dims == 0 || m.count == 0) throw_error(env, ErrorCode::InvalidArgument, "model: expected a fitted model (empty dimensions)");
  m.shift = float64_property(env, o, "shift", m.dim);
  m.whitening = float64_property(env, o, "whitening", m.dims * m.dim);
  m.centres = float64_property(env, o, "centres", m.count * m.dims);
  return m;
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

Napi::Promise scores_promise(Napi::Env env, const char* name, std::vector<Napi::Value> keep, const int32_t* cancel,
                             Napi::Function on_progress, std::function<std::vector<double>(const RunContext&)> run) {
  auto result = std::make_shared<std::vector<double>>();
  return PromiseWorker::Start(
      env, name, std::move(keep), cancel, on_progress,
      [result, run](const RunContext& context) { *result = run(context); },
      [result](Napi::Env env) -> Napi::Value { return to_float64_array(env, std::move(*result)); });
}

}  // namespace

// scoreLogits(logits, rows, classes, kind, temperature, gamma, topM, backend, cancelFlag, onProgress)
Napi::Value ScoreLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 10, "scoreLogits");
    const size_t rows = count(env, info[1], "rows");
    const size_t classes = count(env, info[2], "classes", size_t(1) << 24);
    const float* logits = matrix(env, info[0], "logits", rows, classes);
    const LogitScoreSpec spec = logit_spec(env, info, 3, classes);
    const BackendKind kind = backend_kind(env, info[7]);
    return scores_promise(env, "ncod.scoreLogits", {info[0], info[8]}, cancel_flag(env, info[8], "cancelFlag"),
                          optional_function(env, info[9], "onProgress"), [=](const RunContext& context) {
                            return score_logits(get_backend(kind), logits, rows, classes, spec, context);
                          });
  });
}

// linearScores(features, rows, dim, weights, bias|null, classes, clip, kind, temperature, gamma, topM, backend,
//              cancelFlag, onProgress)
Napi::Value LinearScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 14, "linearScores");
    const size_t rows = count(env, info[1], "rows");
    const size_t dim = count(env, info[2], "dim");
    const float* x = matrix(env, info[0], "features", rows, dim);
    LinearHead head;
    head.classes = count(env, info[5], "classes", size_t(1) << 24);
    head.weights = matrix(env, info[3], "weights", head.classes, dim);
    if (!info[4].IsNull() && !info[4].IsUndefined()) head.bias = matrix(env, info[4], "bias", 1, head.classes);
    head.clip = static_cast<float>(number(env, info[6], "clip"));
    const LogitScoreSpec spec = logit_spec(env, info, 7, head.classes);
    const BackendKind kind = backend_kind(env, info[11]);
    return scores_promise(env, "ncod.linearScores", {info[0], info[3], info[4], info[12]},
                          cancel_flag(env, info[12], "cancelFlag"), optional_function(env, info[13], "onProgress"),
                          [=](const RunContext& context) {
                            return linear_scores(get_backend(kind), x, rows, dim, head, spec, context);
                          });
  });
}

// decisionScores(features, rows, dim, weights, bias|null, classes, mean (Float64Array dim), kind (0 fDBD, 1 NCI),
//                alpha, backend, cancelFlag, onProgress)
Napi::Value DecisionScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 12, "decisionScores");
    const size_t rows = count(env, info[1], "rows");
    const size_t dim = count(env, info[2], "dim");
    const float* x = matrix(env, info[0], "features", rows, dim);
    LinearHead head;
    head.classes = count(env, info[5], "classes", size_t(1) << 24);
    if (head.classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1", "0");
    head.weights = matrix(env, info[3], "weights", head.classes, dim);
    if (!info[4].IsNull() && !info[4].IsUndefined()) head.bias = matrix(env, info[4], "bias", 1, head.classes);
    head.clip = std::numeric_limits<float>::infinity();
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw_error(env, ErrorCode::Dtype, "mean: expected Float64Array");
    }
    auto mean_array = info[6].As<Napi::Float64Array>();
    if (mean_array.ElementLength() != dim) {
      fail(ErrorCode::Shape, "mean", std::to_string(dim) + " elements (dim)", std::to_string(mean_array.ElementLength()) + " elements");
    }
    const std::vector<double> mean(mean_array.Data(), mean_array.Data() + dim);
    const auto kind = static_cast<DecisionScore>(count(env, info[7], "kind", 1));
    const double alpha = number(env, info[8], "alpha");
    const BackendKind backend = backend_kind(env, info[9]);
    return scores_promise(env, "ncod.decisionScores", {info[0], info[3], info[4], info[10]},
                          cancel_flag(env, info[10], "cancelFlag"), optional_function(env, info[11], "onProgress"),
                          [=](const RunContext& context) {
                            return decision_scores(get_backend(backend), x, rows, dim, head, mean.data(), kind, alpha,
                                                   context);
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

// mahalanobisScore(features, rows, classesModel, backgroundModel|null, backend, cancelFlag, onProgress)
Napi::Value MahalanobisScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 7, "mahalanobisScore");
    MahalanobisModel model;
    model.classes = whitened_from_js(env, info[2]);
    if (!info[3].IsNull() && !info[3].IsUndefined()) {
      model.background = whitened_from_js(env, info[3]);
      if (model.background.dim != model.classes.dim) {
        fail(ErrorCode::Shape, "background model", "dim " + std::to_string(model.classes.dim),
             "dim " + std::to_string(model.background.dim));
      }
    }
    const size_t rows = count(env, info[1], "rows");
    const float* x = matrix(env, info[0], "features", rows, model.classes.dim);
    const BackendKind kind = backend_kind(env, info[4]);
    auto shared = std::make_shared<MahalanobisModel>(std::move(model));
    return scores_promise(env, "ncod.mahalanobisScore", {info[0], info[5]}, cancel_flag(env, info[5], "cancelFlag"),
                          optional_function(env, info[6], "onProgress"), [=](const RunContext& context) {
                            return mahalanobis_scores(get_backend(kind), x, rows, *shared, context);
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

// subspaceScores({ features, rows, projection, weights, bias?, classes, kind: 'vim' | 'residual' | 'neco', alpha?,
//                  shift?, scale?, multiplyMaxLogit?, backend?, cancelFlag?, onProgress? }) -> Promise<Float64Array>
Napi::Value SubspaceScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 1, "subspaceScores");
    Napi::Object o = options_object(env, info[0], "subspaceScores");
    auto projection = std::make_shared<WhitenedModel>(whitened_from_js(env, o.Get("projection")));
    const size_t dim = projection->dim;
    const size_t rows = count(env, o.Get("rows"), "rows");
    const float* x = matrix(env, o.Get("features"), "features", rows, dim);
    LinearHead head;
    head.classes = count(env, o.Get("classes"), "classes", size_t(1) << 24);
    if (head.classes < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1", "0");
    head.weights = matrix(env, o.Get("weights"), "weights", head.classes, dim);
    const Napi::Value bias = o.Get("bias");
    if (!bias.IsNull() && !bias.IsUndefined()) head.bias = matrix(env, bias, "bias", 1, head.classes);
    head.clip = std::numeric_limits<float>::infinity();
    SubspaceScoreSpec spec;
    spec.kind = static_cast<SubspaceScore>(enum_option(env, o, "kind", {"vim", "residual", "neco"}));
    if (spec.kind == SubspaceScore::Vim) spec.alpha = number(env, o.Get("alpha"), "alpha");
    if (spec.kind == SubspaceScore::Neco) {
      const std::string d = std::to_string(dim) + " elements (dim)";
      spec.shift = float64_argument(env, o.Get("shift"), "shift", dim, d);
      spec.scale = float64_argument(env, o.Get("scale"), "scale", dim, d);
      const Napi::Value multiply = o.Get("multiplyMaxLogit");
      spec.multiply_max_logit = multiply.IsUndefined() || boolean(env, multiply, "multiplyMaxLogit");
    }
    const BackendKind backend = backend_option(env, o);
    const Napi::Value flag = o.Get("cancelFlag");
    auto shared_spec = std::make_shared<SubspaceScoreSpec>(std::move(spec));
    return scores_promise(env, "ncod.subspaceScores", {info[0], flag}, cancel_flag(env, flag, "cancelFlag"),
                          optional_function(env, o.Get("onProgress"), "onProgress"), [=](const RunContext& context) {
                            return subspace_scores(get_backend(backend), x, rows, *projection, head, *shared_spec, context);
                          });
  });
}

}  // namespace ncod::binding
