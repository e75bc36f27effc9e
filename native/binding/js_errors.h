// Turning ncod::Error into JS NcodError objects (the class is handed over by lib/native.ts at load time).
#pragma once

#include <napi.h>

#include <string>

#include "../core/error.h"
#include "convert.h"

namespace ncod::binding {

// Registers the JS class used for errors; until then plain Errors with a `code` property are thrown.
void set_error_class(Napi::Env env, Napi::Function error_class);

Napi::Object make_error(Napi::Env env, ErrorCode code, const std::string& message);
[[noreturn]] void throw_error(Napi::Env env, ErrorCode code, const std::string& message);

// Runs fn() and rethrows any ncod::Error or std::exception as a JS NcodError.
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  CallScope scope;  // native copies of the call's inputs (convert.h)
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw_error(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_error(env, ErrorCode::OutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    throw_error(env, ErrorCode::Backend, e.what());
  }
}

}  // namespace ncod::binding
