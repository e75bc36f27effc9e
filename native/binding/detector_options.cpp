#include "detector_options.h"

#include "convert.h"
#include "js_errors.h"

namespace ncod::binding {

Napi::Object options_object(Napi::Env env, Napi::Value value, const char* call) {
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray()) {
    throw_error(env, ErrorCode::InvalidArgument, std::string(call) + ": expected an options object, got " + describe_js(value));
  }
  return value.As<Napi::Object>();
}

int enum_option(Napi::Env env, Napi::Object o, const char* key, std::initializer_list<const char*> names, int fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() && fallback >= 0) return fallback;
  std::string expected;
  int i = 0;
  for (const char* name : names) {
    if (v.IsString() && v.As<Napi::String>().Utf8Value() == name) return i;
    expected += (i == 0 ? "'" : i + 1 == int(names.size()) ? " or '" : ", '") + std::string(name) + "'";
    ++i;
  }
  const std::string got = v.IsString() ? "'" + v.As<Napi::String>().Utf8Value() + "'" : describe_js(v);
  throw_error(env, ErrorCode::InvalidArgument, std::string(key) + ": expected " + expected + ", got " + got);
}

// The names are the registry's (native/core/backends.cpp), decoded where every other binding decodes them.
BackendKind backend_option(Napi::Env env, Napi::Object o) {
  const Napi::Value v = o.Get("backend");
  return v.IsUndefined() ? BackendKind::Cpu : backend(env, v, "backend");
}

}  // namespace ncod::binding
