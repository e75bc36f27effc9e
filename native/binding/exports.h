// What the addon exports, each registered beside its definition: a new call or class touches only its own file
// (binding.d.ts describes them all). addon.cpp's Init sets every registered export on the module object.
#pragma once

#include <napi.h>

#include <vector>

namespace ncod::binding {

using ExportedFunction = Napi::Value (*)(const Napi::CallbackInfo& info);
using ExportedClass = Napi::Function (*)(Napi::Env env);  // defines a class (Napi::ObjectWrap::DefineClass)

class ExportRegistration {
 public:
  ExportRegistration(const char* name, ExportedFunction function);
  ExportRegistration(const char* name, ExportedClass define);
};

// Sets every registered export on `exports`, in registration order.
void set_registered_exports(Napi::Env env, Napi::Object exports);

}  // namespace ncod::binding

// At namespace scope in a binding file: NCOD_EXPORT("classStats", ClassStats);
#define NCOD_EXPORT_CONCAT_(a, b) a##b
#define NCOD_EXPORT_NAME_(line) NCOD_EXPORT_CONCAT_(ncod_export_, line)
#define NCOD_EXPORT(js_name, target) \
  static const ::ncod::binding::ExportRegistration NCOD_EXPORT_NAME_(__LINE__)(js_name, target)
