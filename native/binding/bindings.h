// What the binding files share (each registers its own exports: exports.h).
#pragma once

#include <napi.h>

#include "../core/nc_metrics.h"

namespace ncod::binding {

// options.rankTolerance: a number below 1, negative (the default when undefined) for the automatic tolerance.
double rank_tolerance(class OptionsReader& o);

// The JS object for a metrics result (null for metrics whose inputs were not given).
Napi::Object nc_metrics_to_js(Napi::Env env, const NcMetrics& m);

}  // namespace ncod::binding
