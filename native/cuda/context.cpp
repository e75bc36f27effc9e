// The plugin's runtime context: the State, turning failures into statuses, device selection, init, device_name and
// shutdown.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "entry_points.h"
#include "kernels.cuh"
#include "plugin_state.h"

namespace ncod::cuda {

void State::free_buffers() noexcept {
  for (DeviceBuffer* b : {&x, &y, &means, &basis, &tables, &z, &z32, &proj, &argmax_out, &counts, &sums, &scatter,
                          &norms, &sq_sums, &gram_a, &gram_b, &gram_out, &det_rows, &det_product, &det_out, &det_xs,
                          &det_y, &det_g, &det_table, &knn_heaps, &knn_sizes})
    b->release();
  std::vector<double>().swap(host_stage);
  train.release();
}

State& state() {
  static State* s = new State();
  return *s;
}

void set_message(char* buf, size_t len, const char* msg) noexcept {
  if (buf == nullptr || len == 0) return;
  const size_t n = std::min(std::strlen(msg), len - 1);
  std::memcpy(buf, msg, n);
  buf[n] = '\0';
}

void quiesce(State& s) noexcept {
  if (s.stream != nullptr) (void)cudaStreamSynchronize(s.stream);
  (void)cudaGetLastError();
}

int report_current_exception(char* err, size_t errlen) noexcept {
  try {
    throw;
  } catch (const Failure& f) {
    set_message(err, errlen, f.what());
    return f.status;
  } catch (const std::bad_alloc&) {
    set_message(err, errlen, "ncod CUDA plugin: out of memory (host allocation failed)");
    return NCOD_CUDA_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_message(err, errlen, e.what());
  } catch (...) {
    set_message(err, errlen, "ncod CUDA plugin: unknown C++ exception");
  }
  return NCOD_CUDA_INTERNAL_ERROR;
}

namespace {

void release_all(State& s) noexcept {
  if (!s.ready) return;  // buffers, stream and handle only exist after a successful init
  if (s.stream != nullptr) {
    (void)cudaSetDevice(s.device);
    (void)cudaStreamSynchronize(s.stream);
  }
  s.free_buffers();
  s.blas.destroy();
  if (s.stream != nullptr) (void)cudaStreamDestroy(s.stream);
  s.stream = nullptr;
  s.ready = false;
  s.description.clear();
  (void)cudaGetLastError();
}

// Fails with NCOD_CUDA_NO_DEVICE unless a driver reports at least one device.
void require_device() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count <= 0)) {
    (void)cudaGetLastError();
    fail(NCOD_CUDA_NO_DEVICE, "no CUDA device");
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail(NCOD_CUDA_NO_DEVICE, std::string("no CUDA driver: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
  }
}

// Creates the context on dev and returns its description, e.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)".
std::string open_device(int dev) {
  check(cudaSetDevice(dev), "cudaSetDevice(0)");
  check(cudaFree(nullptr), "creating the CUDA context");  // forces context creation so failures surface here
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
  prop.name[sizeof(prop.name) - 1] = '\0';
  char desc[384];
  std::snprintf(desc, sizeof desc, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  const cudaError_t pe = probe_kernels();
  if (pe != cudaSuccess) {
    (void)cudaGetLastError();
    fail(NCOD_CUDA_NO_DEVICE, std::string("the plugin has no kernels for ") + desc + " (built for sm_75 and newer): " +
                                  cudaGetErrorString(pe) + " (" + cudaGetErrorName(pe) + ")");
  }
  return desc;
}

void device_name_locked(State& s, char* out, size_t outlen) {
  if (out == nullptr || outlen == 0) fail("device_name: empty output buffer");
  init_locked(s);
  set_message(out, outlen, s.description.c_str());  // truncated to fit, always NUL-terminated
}

}  // namespace

void init_locked(State& s) {
  if (s.ready) {
    check(cudaSetDevice(s.device), "cudaSetDevice");
    return;
  }
  require_device();
  const int dev = 0;  // CUDA_VISIBLE_DEVICES picks which physical GPU this is
  std::string description = open_device(dev);  // allocated before the handles, so nothing below throws after them

  cudaStream_t stream = nullptr;
  // Non-blocking: no implicit synchronisation with the legacy default stream of whoever else shares the context.
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  try {
    s.blas.create(stream);
  } catch (...) {
    (void)cudaStreamDestroy(stream);
    throw;
  }
  s.device = dev;
  s.stream = stream;
  s.description = std::move(description);
  s.ready = true;
}

}  // namespace ncod::cuda

using ncod::cuda::guarded;
using ncod::cuda::State;

extern "C" {

int ncod_cuda_init(char* err, size_t errlen) {
  return guarded(err, errlen, [](State& s) { ncod::cuda::init_locked(s); });
}

int ncod_cuda_device_name(char* out, size_t outlen, char* err, size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::device_name_locked(s, out, outlen); });
}

void ncod_cuda_shutdown(void) {
  ncod::cuda::guarded_void([](State& s) { ncod::cuda::release_all(s); });
}

}  // extern "C"
