#include "options_reader.h"

#include <cmath>

#include "../core/checks.h"
#include "js_errors.h"

namespace ncod::binding {

namespace {

bool absent(Napi::Value v) { return v.IsUndefined() || v.IsNull(); }


bool is_options_object(Napi::Value v) { return v.IsObject() && !v.IsArray() && !v.IsTypedArray() && !v.IsFunction(); }

}  // namespace

OptionsReader::OptionsReader(Napi::Env env, Napi::Value options, std::string what) : env_(env), what_(std::move(what)) {
  if (!is_options_object(options)) fail(ErrorCode::InvalidArgument, what_, "an object", describe_js(options));
  object_ = options.As<Napi::Object>();
}

OptionsReader OptionsReader::only_argument(const Napi::CallbackInfo& info, const char* function) {
  check_arity(info, 1, function);
  if (!is_options_object(info[0])) fail(ErrorCode::InvalidArgument, function, "an options object", describe_js(info[0]));
  return OptionsReader(info.Env(), info[0]);
}

std::string OptionsReader::field(const char* key) const { return what_ + "." + key; }

void OptionsReader::reject(ErrorCode code, const char* key, const std::string& expected, Napi::Value got) const {
  fail(code, field(key), expected, describe_js(got));
}

Napi::Value OptionsReader::value(const char* key) {
  Napi::Value v = object_.Get(key);
  if (v.IsObject()) inputs_.push_back(v);  // primitives need no keeping alive
  return v;
}

TypedView<const float> OptionsReader::float32_array(const char* key) {
  return ncod::binding::float32_array(env_, value(key), field(key).c_str());
}

TypedView<const float> OptionsReader::float32_matrix(const char* key, size_t rows, size_t dim) {
  auto view = float32_array(key);
  check_matrix_length(field(key).c_str(), view.length, rows, dim);
  return view;
}

std::vector<Napi::Value> OptionsReader::read_inputs_and_this(const Napi::CallbackInfo& info) const {
  std::vector<Napi::Value> keep = inputs_;
  keep.push_back(info.This());
  return keep;
}

TypedView<const float> OptionsReader::optional_float32_array(const char* key) {
  Napi::Value v = value(key);
  if (absent(v)) return {nullptr, 0, v};
  return ncod::binding::float32_array(env_, v, field(key).c_str());
}

TypedView<const int32_t> OptionsReader::int32_array(const char* key) {
  return ncod::binding::int32_array(env_, value(key), field(key).c_str());
}

TypedView<float> OptionsReader::writable_float32_array(const char* key) {
  return ncod::binding::writable_float32_array(env_, value(key), field(key).c_str());
}

size_t OptionsReader::size(const char* key, size_t max) { return count(env_, value(key), field(key).c_str(), max); }

size_t OptionsReader::positive_size(const char* key, size_t max) {
  Napi::Value v = value(key);
  const size_t n = count(env_, v, field(key).c_str(), max);
  if (n < 1) reject(ErrorCode::InvalidArgument, key, "an integer in [1, " + std::to_string(max) + "]", v);
  return n;
}

size_t OptionsReader::optional_size(const char* key, size_t fallback, size_t max) {
  Napi::Value v = value(key);
  return v.IsUndefined() ? fallback : count(env_, v, field(key).c_str(), max);
}

double OptionsReader::number(const char* key) {
  Napi::Value v = value(key);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    reject(ErrorCode::InvalidArgument, key, "a finite number", v);
  }
  return v.As<Napi::Number>().DoubleValue();
}

double OptionsReader::optional_number(const char* key, double fallback) {
  Napi::Value v = value(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    reject(ErrorCode::InvalidArgument, key, "a finite number or undefined", v);
  }
  return v.As<Napi::Number>().DoubleValue();
}

bool OptionsReader::boolean(const char* key) { return ncod::binding::boolean(env_, value(key), field(key).c_str()); }

bool OptionsReader::optional_boolean(const char* key, bool fallback) {
  Napi::Value v = value(key);
  return v.IsUndefined() ? fallback : ncod::binding::boolean(env_, v, field(key).c_str());
}

BackendKind OptionsReader::backend(const char* key) {
  return ncod::binding::backend(env_, value(key), field(key).c_str());
}

BackendKind OptionsReader::optional_backend(const char* key) {
  Napi::Value v = value(key);
  return v.IsUndefined() ? BackendKind::Cpu : ncod::binding::backend(env_, v, field(key).c_str());
}

std::vector<double> OptionsReader::float64_vector(const char* key, size_t length, const std::string& expected) {
  Napi::Value v = value(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    reject(ErrorCode::Dtype, key, "a Float64Array", v);
  }
  auto a = v.As<Napi::Float64Array>();
  if (a.ElementLength() != length) fail(ErrorCode::Shape, field(key), expected, std::to_string(a.ElementLength()) + " elements");
  return std::vector<double>(a.Data(), a.Data() + length);
}

const int32_t* OptionsReader::cancel_flag(const char* key) {
  return ncod::binding::cancel_flag(env_, value(key), field(key).c_str());
}

Napi::Function OptionsReader::progress(const char* key) {
  return optional_function(env_, value(key), field(key).c_str());
}

size_t OptionsReader::one_of(const char* key, const std::vector<std::string>& names) {
  Napi::Value v = value(key);
  const std::string text = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  std::string expected;
  for (size_t i = 0; i < names.size(); ++i) {
    if (v.IsString() && text == names[i]) return i;
    expected += (i == 0 ? "'" : ", '") + names[i] + "'";
  }
  fail(ErrorCode::InvalidArgument, field(key), "one of " + expected, v.IsString() ? "'" + text + "'" : describe_js(v));
}

OptionsReader OptionsReader::object(const char* key) { return OptionsReader(env_, value(key), field(key)); }

}  // namespace ncod::binding
