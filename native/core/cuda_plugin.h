// Loads the CUDA backend from its plugin shared library at run time, so the addon itself never links CUDA.
#pragma once

#include <memory>
#include <string>

#include "backend.h"
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

// Throws the Error for a failed plugin call: OutOfMemory when the plugin's message says "out of memory", else Backend.
[[noreturn]] void raise_cuda_error(const char* what, const char* err);

// Runs one plugin ABI call f(err, err_size) with an error buffer; a non-zero return becomes that Error.
template <class F>
void call_plugin(const char* what, F&& f) {
  char err[512] = {0};
  if (f(err, sizeof err) != 0) raise_cuda_error(what, err);
}

// The training kernels of a loaded plugin: each call forwards to the plugin's ABI (device memory as opaque pointers).
std::unique_ptr<TrainKernels> make_cuda_train_kernels(const ncod_cuda_api* api);

}  // namespace ncod
