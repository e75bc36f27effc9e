// The handles of fitted detector state (LinearHead: linear_head_binding.cpp, WhitenedCentres:
// whitened_centres_binding.cpp) as the detector bindings read them from options objects, and what those bindings share.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "../core/backend.h"
#include "../core/run_context.h"
#include "options_reader.h"

namespace ncod {
class FittedHead;
class FittedWhitened;
}  // namespace ncod

namespace ncod::binding {

// o[key] as a live handle's state (ERR_INVALID_ARGUMENT for anything else, or a disposed handle).
std::shared_ptr<FittedHead> head_option(OptionsReader& o, const char* key);
std::shared_ptr<FittedWhitened> whitened_option(OptionsReader& o, const char* key);

// o.kind (core/detectors.h kLogitScoreNames), o.temperature (default 1), o.gamma (0.1), o.topM (min(100, C)),
// checked for `classes` classes.
LogitScoreSpec logit_spec_option(OptionsReader& o, size_t classes);

// What every score call reads last: o.backend (default 'cpu'), o.cancelFlag, o.onProgress.
struct ScoreRun {
  BackendKind backend;
  const int32_t* cancel;
  Napi::Function progress;
};
ScoreRun score_run_options(OptionsReader& o);

// A PromiseWorker whose work returns scores, settled as a Float64Array.
Napi::Promise scores_promise(Napi::Env env, const char* name, std::vector<Napi::Value> keep, const int32_t* cancel,
                             Napi::Function on_progress, std::function<std::vector<double>(const RunContext&)> run);
// The same for a call read by `o` (keeping what it read alive), cancelled and reporting through `run`.
inline Napi::Promise scores_promise(OptionsReader& o, const char* name, const ScoreRun& run,
                                    std::function<std::vector<double>(const RunContext&)> work) {
  return scores_promise(o.env(), name, o.read_inputs(), run.cancel, run.progress, std::move(work));
}

}  // namespace ncod::binding
