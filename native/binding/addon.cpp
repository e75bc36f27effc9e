// Module initialisation and the small synchronous functions (version, backends, BLAS info, threads).
#include <dlfcn.h>
#include <napi.h>

#include <string>

#include "../core/backend.h"
#include "../core/cuda_plugin.h"
#include "../cpu/blas_info.h"
#include "../cpu/simd.h"
#include "bindings.h"
#include "convert.h"
#include "exports.h"
#include "handles.h"
#include "js_errors.h"

#ifndef NCOD_VERSION
#define NCOD_VERSION "0.0.0"
#endif

namespace ncod::binding {

namespace {

// The folder holding this addon, where the build places the CUDA plugin next to it.
std::string addon_directory() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&addon_directory), &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Napi::Value nullable_string(Napi::Env env, const std::string& s) {
  return s.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s));
}

}  // namespace

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 1, "setErrorClass");
    Napi::Function cls = optional_function(env, info[0], "errorClass");
    if (cls.IsEmpty()) throw_error(env, ErrorCode::InvalidArgument, "errorClass: expected a function, got undefined");
    set_error_class(env, cls);
    return env.Undefined();
  });
}
NCOD_EXPORT("setErrorClass", SetErrorClass);

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), NCOD_VERSION); }

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto statuses = backend_statuses();
    Napi::Array out = Napi::Array::New(env, statuses.size());
    for (size_t i = 0; i < statuses.size(); ++i) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("name", statuses[i].name);
      s.Set("available", statuses[i].available);
      s.Set("reason", statuses[i].available ? env.Null() : nullable_string(env, statuses[i].reason));
      s.Set("device", statuses[i].available ? nullable_string(env, statuses[i].reason) : env.Null());
      out.Set(static_cast<uint32_t>(i), s);
    }
    return out;
  });
}
NCOD_EXPORT("backends", Backends);
NCOD_EXPORT("version", Version);

Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ncod::BlasInfo blas = blas_info();
  Napi::Object out = Napi::Object::New(env);
  out.Set("library", blas.library);
  out.Set("core", blas.core);
  out.Set("threading", blas.threading);
  out.Set("blasThreads", blas.blas_threads);
  out.Set("openmpThreads", blas.openmp_threads);
  out.Set("reducedTeams", static_cast<double>(blas.reduced_teams));
  return out;
}
NCOD_EXPORT("blasInfo", BlasInfo);

// The SIMD level of the CPU kernels: in use, every level the CPU supports (lowest first), AVX512-BF16 in use, and
// why NCOD_SIMD was not understood (the TypeScript loader refuses to go on with that error).
Napi::Value SimdInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cpu::SimdConfig& simd = cpu::simd_config();
  Napi::Object out = Napi::Object::New(env);
  out.Set("level", cpu::simd_level_name(simd.level));
  Napi::Array supported = Napi::Array::New(env);
  for (int l = 0; l <= static_cast<int>(simd.supported); ++l)
    supported.Set(static_cast<uint32_t>(l), cpu::simd_level_name(static_cast<cpu::SimdLevel>(l)));
  out.Set("supported", supported);
  out.Set("bf16", simd.bf16);
  out.Set("error", nullable_string(env, simd.error));
  return out;
}
NCOD_EXPORT("simdInfo", SimdInfo);

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 1, "setThreads");
    const size_t max = max_cpu_threads();
    const size_t threads = count(env, info[0], "threads", max);
    if (threads < 1) {
      throw_error(env, ErrorCode::InvalidArgument, "threads: expected an integer in [1, " + std::to_string(max) + "], got 0");
    }
    set_cpu_threads(static_cast<int>(threads));
    return env.Undefined();
  });
}
NCOD_EXPORT("setThreads", SetThreads);

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  set_cuda_plugin_directory(addon_directory());
  get_backend(BackendKind::Cpu);  // sets up the CPU backend (and its BLAS threading) before any call
  set_registered_exports(env, exports);
  return exports;
}

}  // namespace ncod::binding

static Napi::Object InitNcod(Napi::Env env, Napi::Object exports) { return ncod::binding::Init(env, exports); }

NODE_API_MODULE(ncod, InitNcod)
