#include "convert.h"

#include <cmath>

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

template <typename T>
TypedView<const T> typed_array(Napi::Env env, Napi::Value value, const char* what, napi_typedarray_type type,
                               const char* type_name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_error(env, ErrorCode::Dtype, std::string(what) + ": expected " + type_name + ", got " + describe(value));
  }
  auto array = value.As<Napi::TypedArrayOf<T>>();
  return {array.Data(), array.ElementLength(), value};
}

}  // namespace

TypedView<const float> float32_array(Napi::Env env, Napi::Value value, const char* what) {
  return typed_array<float>(env, value, what, napi_float32_array, "Float32Array");
}

TypedView<const int32_t> int32_array(Napi::Env env, Napi::Value value, const char* what) {
  return typed_array<int32_t>(env, value, what, napi_int32_array, "Int32Array");
}

const int32_t* cancel_flag(Napi::Env env, Napi::Value value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  auto view = int32_array(env, value, what);
  if (view.length < 1) throw_error(env, ErrorCode::Shape, std::string(what) + ": expected length >= 1, got 0");
  return view.data;
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
