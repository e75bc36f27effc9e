// The functions the addon exports, one file per domain.
#pragma once

#include <napi.h>

namespace ncod::binding {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info);
Napi::Value Version(const Napi::CallbackInfo& info);
Napi::Value Backends(const Napi::CallbackInfo& info);
Napi::Value BlasInfo(const Napi::CallbackInfo& info);
Napi::Value SetThreads(const Napi::CallbackInfo& info);
Napi::Value ClassStats(const Napi::CallbackInfo& info);
Napi::Value NcMetricsBinding(const Napi::CallbackInfo& info);

}  // namespace ncod::binding
