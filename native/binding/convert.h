// Checked conversions from JS values. Every failure throws a JS NcodError; nothing here can crash.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/error.h"

namespace ncod::binding {

// A typed array's elements as a native copy made at call time (see CallHolds): JS code that runs while the call
// is in flight (an onProgress callback, a getter, another thread on a SharedArrayBuffer) may change, transfer,
// detach or shrink the JS array, and none of that can reach what native code validated and reads. `owner` is the
// JS array.
template <typename T>
struct TypedView {
  T* data;
  size_t length;
  Napi::Value owner;
};

// Whether an optional array was given (neither null nor undefined).
template <typename T>
bool given(const TypedView<T>& view) {
  return !view.owner.IsUndefined() && !view.owner.IsNull();
}
// ERR_SHAPE unless an optional array, when given, has `length` elements; `expected` says what they are.
template <typename T>
void check_optional_length(const std::string& what, const TypedView<T>& view, size_t length, const std::string& expected) {
  if (given(view) && view.length != length) fail(ErrorCode::Shape, what, expected, std::to_string(view.length) + " elements");
}

TypedView<const float> float32_array(Napi::Env env, Napi::Value value, const char* what);
TypedView<const int32_t> int32_array(Napi::Env env, Napi::Value value, const char* what);
// A Float32Array the call overwrites when it succeeds: native code writes the copy; PromiseWorker copies it back to
// the JS array on the JS thread after checking that the array is still attached and of the same length.
TypedView<float> writable_float32_array(Napi::Env env, Napi::Value value, const char* what);
// An optional Int32Array of length >= 1 on a SharedArrayBuffer (which cannot be detached or shrunk, so a worker
// thread may poll it) used as a cancel flag; nullptr when undefined.
const int32_t* cancel_flag(Napi::Env env, Napi::Value value, const char* what);

// The native copies made by the conversions above during one binding call. guarded() opens a scope on the JS
// thread; PromiseWorker::Start adopts what the scope holds, so the copies live exactly as long as the call.
struct WriteBack {
  Napi::Reference<Napi::Value> target;  // the JS Float32Array
  float* source;                        // the native copy
  size_t length;
  std::string what;
};
struct CallHolds {
  std::vector<std::shared_ptr<void>> buffers;
  std::vector<WriteBack> write_backs;
};
// Takes what the innermost open scope holds (empty when none is open).
CallHolds take_call_holds();
class CallScope {
 public:
  CallScope();
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  CallHolds holds_;
  CallHolds* outer_;
};
// Checks every write-back target first (attached, same length), then copies all: all or nothing. Throws NcodError.
void write_back_all(Napi::Env env, std::vector<WriteBack>& write_backs);

// A non-negative integer not above max.
size_t count(Napi::Env env, Napi::Value value, const char* what, size_t max = (size_t(1) << 53));
bool boolean(Napi::Env env, Napi::Value value, const char* what);
// A backend by name ('cpu' | 'cuda', the registry in native/core/backends.cpp); ERR_INVALID_ARGUMENT otherwise.
BackendKind backend(Napi::Env env, Napi::Value value, const char* what);
// What a JS value is, for "expected X, got Y" messages ("a string", "Float64Array", ...).
std::string describe_js(Napi::Value value);
// An optional function; an empty Function when undefined.
Napi::Function optional_function(Napi::Env env, Napi::Value value, const char* what);

// Moves a vector into a JS Float64Array without copying.
Napi::Float64Array to_float64_array(Napi::Env env, std::vector<double>&& values);

// Checks that the call has exactly `expected` arguments.
void check_arity(const Napi::CallbackInfo& info, size_t expected, const char* function);

}  // namespace ncod::binding
