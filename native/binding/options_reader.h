// Reads a raw call's arguments from one JS options object: typed getters named after the field, each failing with
// "options.<field>: expected X, got Y" (ERR_INVALID_ARGUMENT; ERR_DTYPE for a typed array of the wrong type).
//
// Two rules every binding keeps by reading through this class:
//  - each field is read exactly once (a getter runs once) and typed arrays are copied into native memory as they are
//    read (convert.h, CallScope): a getter read later may change, detach or shrink an array read earlier, or call
//    another binding, and none of that can reach what native code validated and reads;
//  - read every field first, then check how fields relate (shapes) and only then start work: nothing between the
//    reads holds a pointer into JS memory except a cancel flag's SharedArrayBuffer, which cannot shrink.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "../core/backend.h"
#include "../core/error.h"
#include "convert.h"

namespace ncod::binding {

class OptionsReader {
 public:
  // Throws ERR_INVALID_ARGUMENT unless `options` is an object. `what` names it in messages ("options").
  OptionsReader(Napi::Env env, Napi::Value options, std::string what = "options");
  // Reads the call's only argument: check_arity(info, 1) and the constructor above.
  static OptionsReader only_argument(const Napi::CallbackInfo& info, const char* function);

  TypedView<const float> float32_array(const char* key);
  // A float32 rows×dim matrix (ERR_SHAPE "options.<key>: ..." when its length is not rows × dim).
  TypedView<const float> float32_matrix(const char* key, size_t rows, size_t dim);
  // {nullptr, 0} when the field is null or undefined.
  TypedView<const float> optional_float32_array(const char* key);
  TypedView<const int32_t> int32_array(const char* key);
  // Written back to the JS array when the call succeeds (convert.h writable_float32_array).
  TypedView<float> writable_float32_array(const char* key);
  // An integer in [0, max] / [1, max].
  size_t size(const char* key, size_t max = size_t(1) << 53);
  size_t positive_size(const char* key, size_t max = size_t(1) << 53);
  // size(), or `fallback` when undefined.
  size_t optional_size(const char* key, size_t fallback, size_t max = size_t(1) << 53);
  // A finite number; optional_number returns `fallback` when undefined.
  double number(const char* key);
  double optional_number(const char* key, double fallback);
  bool boolean(const char* key);
  bool optional_boolean(const char* key, bool fallback);
  // The index of the string among `names`; ERR_INVALID_ARGUMENT "expected one of 'a', 'b', got 'c'" otherwise.
  size_t one_of(const char* key, const std::vector<std::string>& names);
  // one_of with values: enum_of<Covariance>("covariance", {{"ridge", Covariance::Ridge}, {"pinv", Covariance::Pinv}}).
  template <typename E>
  E enum_of(const char* key, std::initializer_list<std::pair<const char*, E>> names);
  // enum_of over a names table declared next to its enum (core/detectors.h kLogitScoreNames, ...); `fallback` when
  // the field is undefined and a fallback is given.
  template <typename E, size_t N>
  E enum_of(const char* key, const std::pair<const char*, E> (&names)[N], const E* fallback = nullptr);
  // A copied Float64Array of exactly `length` elements (ERR_DTYPE / ERR_SHAPE; `expected` says what they are).
  std::vector<double> float64_vector(const char* key, size_t length, const std::string& expected);
  // A backend name, 'cpu' | 'cuda' (the registry in native/core/backends.cpp); optional_backend: 'cpu' when undefined.
  BackendKind backend(const char* key = "backend");
  BackendKind optional_backend(const char* key = "backend");
  // An optional Int32Array on a SharedArrayBuffer (convert.h cancel_flag); nullptr when undefined.
  const int32_t* cancel_flag(const char* key = "cancelFlag");
  // An optional function called with the fraction done; an empty Function when undefined.
  Napi::Function progress(const char* key = "onProgress");
  // A nested options object, read by its own reader ("options.epoch.batch" in messages).
  OptionsReader object(const char* key);
  // The raw value, for fields a binding converts itself (read once, like every getter; kept alive when an object).
  Napi::Value value(const char* key);

  Napi::Env env() const { return env_; }
  // "options.<key>", for messages about a field that was read.
  std::string field(const char* key) const;
  // The objects read so far (typed arrays, cancel flags, nested objects): PromiseWorker keeps them alive.
  const std::vector<Napi::Value>& read_inputs() const { return inputs_; }
  // read_inputs() and the object a method was called on (an ObjectWrap that must outlive the call).
  std::vector<Napi::Value> read_inputs_and_this(const Napi::CallbackInfo& info) const;

 private:
  [[noreturn]] void reject(ErrorCode code, const char* key, const std::string& expected, Napi::Value got) const;

  Napi::Env env_;
  Napi::Object object_;
  std::string what_;
  std::vector<Napi::Value> inputs_;
};

template <typename E>
E OptionsReader::enum_of(const char* key, std::initializer_list<std::pair<const char*, E>> names) {
  std::vector<std::string> keys;
  for (const auto& name : names) keys.emplace_back(name.first);
  return (names.begin() + one_of(key, keys))->second;
}

template <typename E, size_t N>
E OptionsReader::enum_of(const char* key, const std::pair<const char*, E> (&names)[N], const E* fallback) {
  if (fallback && object_.Get(key).IsUndefined()) return *fallback;
  std::vector<std::string> keys;
  for (const auto& name : names) keys.emplace_back(name.first);
  return names[one_of(key, keys)].second;
}

}  // namespace ncod::binding
