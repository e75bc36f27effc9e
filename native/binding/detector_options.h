// Parsing the options objects of the detector bindings (binding.d.ts, detector section): one place for the
// named enums (backend 'cpu' | 'cuda', ...) and for "<name>: expected X, got Y" errors (ERR_INVALID_ARGUMENT).
#pragma once

#include <napi.h>

#include <initializer_list>
#include <string>

#include "../core/backend.h"

namespace ncod::binding {

// The options object of a call named `call` (an object, ERR_INVALID_ARGUMENT otherwise).
Napi::Object options_object(Napi::Env env, Napi::Value value, const char* call);

// The index of o[key] in `names` (a string among them; `fallback` when absent, or an error if fallback < 0).
int enum_option(Napi::Env env, Napi::Object o, const char* key, std::initializer_list<const char*> names, int fallback = -1);

// o.backend: 'cpu' (the default) or 'cuda'.
BackendKind backend_option(Napi::Env env, Napi::Object o);

}  // namespace ncod::binding
