#include "convert.h"

#include <cmath>
#include <cstring>

#include "js_errors.h"

namespace ncod::binding {

namespace {

std::string describe(Napi::Value value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsTypedArray()) {
    static const char* names[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray", "Int16Array",
                                  "Uint16Array",  "Int32Array",   "Uint32Array",       "Float32Array",
                                  "Float64Array", "BigInt64Array", "BigUint64Array"};
    const auto type = static_cast<size_t>(value.As<Napi::TypedArray>().TypedArrayType());
    return type < sizeof names / sizeof names[0] ? names[type] : "a typed array";
  }
  if (value.IsArray()) return "Array";
  if (value.IsNumber()) {
    const double v = value.As<Napi::Number>().DoubleValue();
    return std::isfinite(v) ? std::to_string(v) : "a non-finite number";
  }
  if (value.IsString()) return "a string";
  if (value.IsBoolean()) return "a boolean";
  if (value.IsFunction()) return "a function";
  return "an object";
}

// The innermost open scope's holds. Scopes nest (a getter read during argument parsing may call another binding):
// each owns its own holds, so an inner call's PromiseWorker never adopts, or frees, an outer call's copies.
thread_local CallHolds* current_holds = nullptr;

template <typename T>
Napi::TypedArrayOf<T> checked_typed_array(Napi::Env env, Napi::Value value, const char* what, napi_typedarray_type type,
                                          const char* type_name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_error(env, ErrorCode::Dtype, std::string(what) + ": expected " + type_name + ", got " + describe(value));
  }
  return value.As<Napi::TypedArrayOf<T>>();
}

// A native copy of the array's current elements, held by the open call scope.
template <typename T>
T* native_copy(Napi::Env env, const Napi::TypedArrayOf<T>& array, size_t length, const char* what) {
  if (length == 0) return nullptr;
  if (current_holds == nullptr) {
    throw_error(env, ErrorCode::Backend, std::string(what) + ": expected a call scope for the native copy, got none");
  }
  std::shared_ptr<T[]> copy(new T[length]);  // bad_alloc becomes ERR_OUT_OF_MEMORY in guarded()
  std::memcpy(copy.get(), array.Data(), length * sizeof(T));
  T* data = copy.get();
  current_holds->buffers.push_back(std::shared_ptr<void>(copy, data));
  return data;
}

template <typename T>
TypedView<const T> copied_array(Napi::Env env, Napi::Value value, const char* what, napi_typedarray_type type,
                                const char* type_name) {
  auto array = checked_typed_array<T>(env, value, what, type, type_name);
  const size_t length = array.ElementLength();
  return {native_copy<T>(env, array, length, what), length, value};
}

bool on_shared_array_buffer(Napi::Env env, Napi::Value value) {
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, value, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok || !buffer) return false;
  bool is_plain = true;
  if (napi_is_arraybuffer(env, buffer, &is_plain) != napi_ok) return false;
  return !is_plain;  // a typed array's buffer is an ArrayBuffer or a SharedArrayBuffer
}

}  // namespace

std::string describe_js(Napi::Value value) { return describe(value); }

CallScope::CallScope() : outer_(current_holds) { current_holds = &holds_; }

CallScope::~CallScope() {
  current_holds = outer_;  // holds_ (what no PromiseWorker adopted: a synchronous call's copies, or a failed call) goes
}

CallHolds take_call_holds() {
  CallHolds out;
  if (current_holds) std::swap(out, *current_holds);
  return out;
}

void write_back_all(Napi::Env env, std::vector<WriteBack>& write_backs) {
  for (WriteBack& w : write_backs) {
    Napi::Value target = w.target.Value();
    size_t length = 0;
    if (target.IsTypedArray() && target.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
      auto array = target.As<Napi::Float32Array>();
      length = array.Data() == nullptr ? 0 : array.ElementLength();
    }
    if (length != w.length) {
      throw_error(env, ErrorCode::InvalidArgument,
                  w.what + ": expected the Float32Array of " + std::to_string(w.length) +
                      " elements to stay attached until the call settled (it is written back), got " +
                      std::to_string(length) + " elements (transferred, detached or resized during the call)");
    }
  }
  for (WriteBack& w : write_backs) {
    if (w.length == 0) continue;
    auto array = w.target.Value().As<Napi::Float32Array>();
    std::memcpy(array.Data(), w.source, w.length * sizeof(float));
  }
}

TypedView<const float> float32_array(Napi::Env env, Napi::Value value, const char* what) {
  return copied_array<float>(env, value, what, napi_float32_array, "Float32Array");
}

TypedView<const int32_t> int32_array(Napi::Env env, Napi::Value value, const char* what) {
  return copied_array<int32_t>(env, value, what, napi_int32_array, "Int32Array");
}

TypedView<float> writable_float32_array(Napi::Env env, Napi::Value value, const char* what) {
  auto array = checked_typed_array<float>(env, value, what, napi_float32_array, "Float32Array");
  const size_t length = array.ElementLength();
  float* data = native_copy<float>(env, array, length, what);
  current_holds->write_backs.push_back(WriteBack{Napi::Persistent(value), data, length, what});
  return {data, length, value};
}

const int32_t* cancel_flag(Napi::Env env, Napi::Value value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  auto array = checked_typed_array<int32_t>(env, value, what, napi_int32_array, "Int32Array");
  if (array.ElementLength() < 1) throw_error(env, ErrorCode::Shape, std::string(what) + ": expected length >= 1, got 0");
  if (!on_shared_array_buffer(env, value)) {
    throw_error(env, ErrorCode::InvalidArgument,
                std::string(what) + ": expected an Int32Array on a SharedArrayBuffer (worker threads poll it), got one on an ArrayBuffer");
  }
  return array.Data();  // a SharedArrayBuffer is never detached or shrunk; the worker's reference keeps it alive
}

size_t count(Napi::Env env, Napi::Value value, const char* what, size_t max) {
  if (!value.IsNumber()) {
    throw_error(env, ErrorCode::InvalidArgument, std::string(what) + ": expected a number, got " + describe(value));
  }
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != std::floor(v) || v > static_cast<double>(max)) {
    throw_error(env, ErrorCode::InvalidArgument,
                std::string(what) + ": expected an integer in [0, " + std::to_string(max) + "], got " + describe(value));
  }
  return static_cast<size_t>(v);
}

bool boolean(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsBoolean()) {
    throw_error(env, ErrorCode::InvalidArgument, std::string(what) + ": expected a boolean, got " + describe(value));
  }
  return value.As<Napi::Boolean>().Value();
}

BackendKind backend(Napi::Env /*env: messages need none*/, Napi::Value value, const char* what) {
  if (!value.IsString()) fail(ErrorCode::InvalidArgument, what, backend_name_list(), describe(value));
  return backend_named(value.As<Napi::String>().Utf8Value(), what);
}

Napi::Function optional_function(Napi::Env env, Napi::Value value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return Napi::Function();
  if (!value.IsFunction()) {
    throw_error(env, ErrorCode::InvalidArgument, std::string(what) + ": expected a function, got " + describe(value));
  }
  return value.As<Napi::Function>();
}

Napi::Float64Array to_float64_array(Napi::Env env, std::vector<double>&& values) {
  const size_t n = values.size();
  if (n == 0) return Napi::Float64Array::New(env, 0);
  auto* owned = new std::vector<double>(std::move(values));
  auto buffer = Napi::ArrayBuffer::New(env, owned->data(), n * sizeof(double),
                                       [](Napi::Env, void*, std::vector<double>* v) { delete v; }, owned);
  return Napi::Float64Array::New(env, n, buffer, 0);
}

void check_arity(const Napi::CallbackInfo& info, size_t expected, const char* function) {
  if (info.Length() != expected) {
    throw_error(info.Env(), ErrorCode::InvalidArgument,
                std::string(function) + ": expected " + std::to_string(expected) + " arguments, got " +
                    std::to_string(info.Length()));
  }
}

}  // namespace ncod::binding
