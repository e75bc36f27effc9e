// Per-environment state of the addon (Node-API instance data): classes the addon needs to construct.
#pragma once

#include <napi.h>

namespace ncod::binding {

struct AddonData {
  Napi::FunctionReference error_class;        // lib/errors.ts NcodError, set by lib/native.ts
  Napi::FunctionReference accumulator_class;  // NcAccumulator
};

// Created on first use; node-addon-api deletes it when the environment shuts down.
AddonData& addon_data(Napi::Env env);

}  // namespace ncod::binding
