// Loads the CUDA backend from its plugin shared library at run time, so the addon itself never links CUDA.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "backend.h"
#include "error.h"
#include "train_kernels.h"

struct ncod_cuda_api;  // ../cuda/ncod_cuda_abi.h

namespace ncod {

// Where the addon looks for the plugin (set by the binding to the addon's own folder).
// The environment variable NCOD_CUDA_PLUGIN, when set, names the plugin file instead.
void set_cuda_plugin_directory(const std::string& directory);

// The plugin's file name; deliberately not *.node so node-gyp-build never mistakes it for the addon.
constexpr const char* kCudaPluginFileName = "libncod_cuda.so";

// Returns the backend, or nullptr with `reason` saying why (not built, no driver, no device, ...).
// `device` receives a description of the device when the backend is available.
std::unique_ptr<Backend> load_cuda_backend(std::string& reason, std::string& device);

// ---- Internal to the CUDA backend (cuda_plugin.cpp, cuda_train_kernels.cpp).

// The Error code of an ncod_cuda_status: OutOfMemory, InvalidArgument, BackendUnavailable (no device), else Backend.
ErrorCode error_for_cuda_status(int status);

// Throws the Error for a failed plugin call from its ncod_cuda_status and message.
[[noreturn]] void raise_cuda_error(const char* what, int status, const char* err);

// Calls fn(args..., err, errlen) with an error buffer; a status other than NCOD_CUDA_OK becomes its Error.
template <class... Params, class... Args>
void call_plugin(const char* what, int (*fn)(Params...), Args&&... args) {
  char err[512] = {0};
  const int status = fn(std::forward<Args>(args)..., err, sizeof err);
  if (status != 0) raise_cuda_error(what, status, err);
}

// The one way the addon calls a plugin function: NCOD_CUDA_CALL(api, gram, a, m, b, n, k, out) calls
// api->gram(a, m, b, n, k, out, err, errlen) and names the function in the error.
#define NCOD_CUDA_CALL(api, name, ...) ::ncod::call_plugin(#name, (api)->name, __VA_ARGS__)

// The training kernels of a loaded plugin: each call forwards to the plugin's ABI (device memory as opaque pointers).
std::unique_ptr<TrainKernels> make_cuda_train_kernels(const ncod_cuda_api* api);

}  // namespace ncod
