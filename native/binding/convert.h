// Checked conversions from JS values. Every failure throws a JS NcodError; nothing here can crash.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ncod::binding {

// A typed array's elements without copying. `owner` keeps the JS array alive while native code uses it.
template <typename T>
struct TypedView {
  T* data;
  size_t length;
  Napi::Value owner;
};

TypedView<const float> float32_array(Napi::Env env, Napi::Value value, const char* what);
TypedView<const int32_t> int32_array(Napi::Env env, Napi::Value value, const char* what);
// An optional Int32Array of length >= 1 used as a cancel flag; nullptr when undefined.
const int32_t* cancel_flag(Napi::Env env, Napi::Value value, const char* what);

// A non-negative integer not above max.
size_t count(Napi::Env env, Napi::Value value, const char* what, size_t max = (size_t(1) << 53));
bool boolean(Napi::Env env, Napi::Value value, const char* what);
// An optional function; an empty Function when undefined.
Napi::Function optional_function(Napi::Env env, Napi::Value value, const char* what);

// Moves a vector into a JS Float64Array without copying.
Napi::Float64Array to_float64_array(Napi::Env env, std::vector<double>&& values);

// Checks that the call has exactly `expected` arguments.
void check_arity(const Napi::CallbackInfo& info, size_t expected, const char* function);

}  // namespace ncod::binding
