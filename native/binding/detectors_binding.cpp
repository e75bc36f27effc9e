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
#include "exports.h"

namespace ncod::binding {

namespace {

// options.covariance ('ridge', the default, or 'pinv') and options.ridge (1e-6 when absent; refused with 'pinv',
// which has none, rather than ignored); core/detectors/mahalanobis.cpp checks the values again.
CovarianceOptions covariance_options(OptionsReader& o) {
  CovarianceOptions c;
  const CovarianceInverse ridge_kind = CovarianceInverse::Ridge;
  c.kind = o.enum_of("covariance", kCovarianceNames, &ridge_kind);
  const double ridge = o.optional_number("ridge", std::numeric_limits<double>::quiet_NaN());  // NaN: undefined
  if (std::isnan(ridge)) return c;
  if (c.kind == CovarianceInverse::Pinv) {
    fail(ErrorCode::InvalidArgument, o.field("ridge"), "no ridge with covariance 'pinv' (the pseudo-inverse takes none)",
         std::to_string(ridge));
  }
  c.ridge = ridge;
  return c;
}

// Optional weights (classes×dim) and bias (classes, only with weights) of a linear head.
struct OptionalHead {
  const float* weights = nullptr;
  const float* bias = nullptr;
};
OptionalHead optional_head_options(OptionsReader& o, size_t classes, size_t dim) {
  OptionalHead h;
  auto weights = o.optional_float32_array("weights");  // read once: a getter could answer differently twice
  if (!given(weights)) return h;
  if (classes < 1) fail(ErrorCode::InvalidArgument, o.field("classes"), "at least 1 with weights", "0");
  check_matrix_length(o.field("weights").c_str(), weights.length, classes, dim);
  h.weights = weights.data;
  auto bias = o.optional_float32_array("bias");
  check_optional_length(o.field("bias"), bias, classes, std::to_string(classes) + " elements (classes)");
  h.bias = bias.data;
  return h;
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

// Moments about a shift from options shift (d), counts (C), sums (C×d), scatter (d×d).
ShiftedMoments moments_options(OptionsReader& o, size_t dim, size_t classes) {
  ShiftedMoments m;
  m.dim = dim;
  m.classes = classes;
  const std::string d = std::to_string(dim), c = std::to_string(classes);
  m.shift = o.float64_vector("shift", dim, d + " elements (dim)");
  m.counts = o.float64_vector("counts", classes, c + " elements (numClasses)");
  m.sums = o.float64_vector("sums", classes * dim, c + "×" + d + " elements (numClasses × dim)");
  m.scatter = o.float64_vector("scatter", dim * dim, d + "×" + d + " elements (dim × dim)");
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
NCOD_EXPORT("scoreLogits", ScoreLogits);

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
NCOD_EXPORT("decisionScores", DecisionScores);

// mahalanobisFit({ features, labels, rows, dim, numClasses, relative, covariance?, ridge?, backend?, cancelFlag?,
//                   onProgress? }) -> Promise<{ classes: model, background: model | null }>
Napi::Value MahalanobisFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "mahalanobisFit");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim", size_t(1) << 16);
    const float* x = o.float32_matrix("features", rows, dim).data;
    auto labels = o.int32_array("labels");
    check_label_count(labels.length, rows);
    const size_t C = o.positive_size("numClasses", size_t(1) << 20);
    const bool relative = o.boolean("relative");
    const CovarianceOptions covariance = covariance_options(o);
    const BackendKind kind = o.optional_backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();
    const LabelledRows data{x, labels.data, rows, dim};
    auto model = std::make_shared<MahalanobisModel>();
    return PromiseWorker::Start(
        env, "ncod.mahalanobisFit", o.read_inputs(), cancel, on_progress,
        [=](const RunContext& context) {
          *model = fit_mahalanobis(get_backend(kind), data, C, relative, covariance, context);
        },
        [model](Napi::Env env) -> Napi::Value { return mahalanobis_to_js(env, *model); });
  });
}
NCOD_EXPORT("mahalanobisFit", MahalanobisFit);

// mahalanobisFitMoments({ shift, counts, sums, scatter, dim, numClasses, relative, covariance?, ridge?, backend? })
//   -> Promise<{ classes: model, background: model | null }>; the moments as ShiftedMoments (detectors.h).
Napi::Value MahalanobisFitMoments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "mahalanobisFitMoments");
    const size_t dim = o.size("dim", size_t(1) << 14);
    if (dim < 1) fail(ErrorCode::Shape, o.field("dim"), "at least 1", "0");
    const size_t C = o.positive_size("numClasses", size_t(1) << 20);
    auto moments = std::make_shared<ShiftedMoments>(moments_options(o, dim, C));
    const bool relative = o.boolean("relative");
    const CovarianceOptions covariance = covariance_options(o);
    const BackendKind kind = o.optional_backend();
    auto model = std::make_shared<MahalanobisModel>();
    return PromiseWorker::Start(
        env, "ncod.mahalanobisFitMoments", {}, nullptr, Napi::Function(),
        [=](const RunContext&) { *model = mahalanobis_from_moments(get_backend(kind), *moments, relative, covariance); },
        [model](Napi::Env env) -> Napi::Value { return mahalanobis_to_js(env, *model); });
  });
}
NCOD_EXPORT("mahalanobisFitMoments", MahalanobisFitMoments);

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
NCOD_EXPORT("mahalanobisScore", MahalanobisScore);

// subspaceFit({ features, rows, dim, weights?, bias?, classes?, standardise, backend?, cancelFlag?, onProgress? })
//   -> Promise<{ shift, scale, eigenvalues, eigenvectors }>
Napi::Value SubspaceFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "subspaceFit");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim", size_t(1) << 16);
    const float* x = o.float32_matrix("features", rows, dim).data;
    const size_t classes = o.optional_size("classes", 0, size_t(1) << 24);
    const OptionalHead head = optional_head_options(o, classes, dim);
    const bool standardise = o.boolean("standardise");
    const BackendKind kind = o.optional_backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();
    auto result = std::make_shared<Subspace>();
    return PromiseWorker::Start(
        env, "ncod.subspaceFit", o.read_inputs(), cancel, on_progress,
        [=](const RunContext& context) {
          check_finite("features", x, rows, dim);
          *result = fit_subspace(get_backend(kind), x, rows, dim, head.weights, head.bias, classes, standardise, context);
        },
        [result](Napi::Env env) -> Napi::Value { return subspace_to_js(env, *result); });
  });
}
NCOD_EXPORT("subspaceFit", SubspaceFit);

// subspaceFitMoments({ shift, count, sums, scatter, dim, weights?, bias?, classes?, standardise, backend? })
//   -> Promise<{ shift, scale, eigenvalues, eigenvectors }>; one-class moments (count a number, sums d).
Napi::Value SubspaceFitMoments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "subspaceFitMoments");
    const size_t dim = o.size("dim", size_t(1) << 14);
    if (dim < 1) fail(ErrorCode::Shape, o.field("dim"), "at least 1", "0");
    auto moments = std::make_shared<ShiftedMoments>();
    moments->dim = dim;
    moments->classes = 1;
    const std::string d = std::to_string(dim);
    moments->shift = o.float64_vector("shift", dim, d + " elements (dim)");
    moments->counts = {o.number("count")};
    moments->sums = o.float64_vector("sums", dim, d + " elements (dim)");
    moments->scatter = o.float64_vector("scatter", dim * dim, d + "×" + d + " elements (dim × dim)");
    const size_t classes = o.optional_size("classes", 0, size_t(1) << 24);
    const OptionalHead head = optional_head_options(o, classes, dim);
    const bool standardise = o.boolean("standardise");
    o.optional_backend();  // checked; the derivation is small dense linear algebra on the CPU
    auto result = std::make_shared<Subspace>();
    return PromiseWorker::Start(
        env, "ncod.subspaceFitMoments", o.read_inputs(), nullptr, Napi::Function(),
        [=](const RunContext&) { *result = subspace_from_moments(*moments, head.weights, head.bias, classes, standardise); },
        [result](Napi::Env env) -> Napi::Value { return subspace_to_js(env, *result); });
  });
}
NCOD_EXPORT("subspaceFitMoments", SubspaceFitMoments);

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
NCOD_EXPORT("subspaceScores", SubspaceScores);

// preparedStateCount() -> number: how many prepared objects (Backend::prepare_*) fitted state has made in this
// process (core/detectors/prepared_slots.h), for tests proving that scoring many chunks prepares once.
Napi::Value PreparedStateCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(prepared_state_count().load()));
}
NCOD_EXPORT("preparedStateCount", PreparedStateCount);

}  // namespace ncod::binding
