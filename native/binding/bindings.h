// The functions the addon exports, one file per domain.
#pragma once

#include <napi.h>

#include "../core/nc_metrics.h"

namespace ncod::binding {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
Napi::Value Version(const Napi::CallbackInfo& info);
Napi::Value Backends(const Napi::CallbackInfo& info);
Napi::Value BlasInfo(const Napi::CallbackInfo& info);
Napi::Value SetThreads(const Napi::CallbackInfo& info);
Napi::Value ClassStats(const Napi::CallbackInfo& info);
Napi::Value NcMetricsBinding(const Napi::CallbackInfo& info);
Napi::Function DefineNcAccumulator(Napi::Env env);
Napi::Function DefineKnnBank(Napi::Env env);
Napi::Value CrossEntropyLs(const Napi::CallbackInfo& info);
Napi::Value NnEntropy(const Napi::CallbackInfo& info);
Napi::Value EtfProjector(const Napi::CallbackInfo& info);
Napi::Value TrainEpoch(const Napi::CallbackInfo& info);
Napi::Value ForwardLayer(const Napi::CallbackInfo& info);
Napi::Value MlpGradients(const Napi::CallbackInfo& info);
Napi::Value TrainKernel(const Napi::CallbackInfo& info);
Napi::Value ScoreLogits(const Napi::CallbackInfo& info);
Napi::Value MahalanobisFit(const Napi::CallbackInfo& info);
Napi::Value MahalanobisScore(const Napi::CallbackInfo& info);
Napi::Value MahalanobisFitMoments(const Napi::CallbackInfo& info);
Napi::Value DecisionScores(const Napi::CallbackInfo& info);
Napi::Value SubspaceFit(const Napi::CallbackInfo& info);
Napi::Value SubspaceFitMoments(const Napi::CallbackInfo& info);
Napi::Value SubspaceScores(const Napi::CallbackInfo& info);
Napi::Value PreparedStateCount(const Napi::CallbackInfo& info);
Napi::Value NccAgreementCount(const Napi::CallbackInfo& info);

// options.rankTolerance: a number below 1, negative (the default when undefined) for the automatic tolerance.
double rank_tolerance(class OptionsReader& o);

// The JS object for a metrics result (null for metrics whose inputs were not given).
Napi::Object nc_metrics_to_js(Napi::Env env, const NcMetrics& m);

}  // namespace ncod::binding
