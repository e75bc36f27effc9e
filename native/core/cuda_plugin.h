// Loads the CUDA backend from its plugin shared library at run time, so the addon itself never links CUDA.
#pragma once

#include <memory>
#include <string>

#include "backend.h"

namespace ncod {

// Where the addon looks for the plugin (set by the binding to the addon's own folder).
// The environment variable NCOD_CUDA_PLUGIN, when set, names the plugin file instead.
void set_cuda_plugin_directory(const std::string& directory);

// The plugin's file name; deliberately not *.node so node-gyp-build never mistakes it for the addon.
constexpr const char* kCudaPluginFileName = "libncod_cuda.so";

// Returns the backend, or nullptr with `reason` saying why (not built, no driver, no device, ...).
// `device` receives a description of the device when the backend is available.
std::unique_ptr<Backend> load_cuda_backend(std::string& reason, std::string& device);

}  // namespace ncod
