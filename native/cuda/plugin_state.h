// The plugin's process-wide state and the wrapper every ABI entry point runs its work in.
//  - One State guarded by one mutex: every entry point locks it, so calls from any thread are serialised. Each entry
//    point re-selects the plugin's device (init_locked) because the current device is per host thread.
//  - Internal failures throw Failure (runtime.h) or std::bad_alloc; guarded() catches everything, returns its
//    ncod_cuda_status with a message in err, and never lets an exception or abort cross the C boundary.
//  - Device buffers are kept between calls and only grow; every call ends with a stream synchronise before the host
//    reads results, and on failure the stream is drained before the lock is released, so no enqueued work can still
//    be using a buffer when the next call reallocates it.
#ifndef NCOD_CUDA_PLUGIN_STATE_H
#define NCOD_CUDA_PLUGIN_STATE_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "blas.h"
#include "ncod_cuda_abi.h"
#include "runtime.h"
#include "train_ops.h"

namespace ncod::cuda {

struct State {
  std::mutex mu;
  bool ready = false;
  int device = 0;
  cudaStream_t stream = nullptr;
  Blas blas;
  std::string description;

  // Class statistics (class_sums_api.cpp, centred_pass.cpp): inputs and per-chunk work buffers.
  DeviceBuffer x, y, means, basis, tables, z, z32, proj, argmax_out;
  // Their accumulated outputs.
  DeviceBuffer counts, sums, scatter, norms, sq_sums;
  // gram.
  DeviceBuffer gram_a, gram_b, gram_out;
  // OOD detectors (detector_api.cpp): per-call work buffers. The fitted state (heads, centres, banks) lives in its own
  // handle (ncod_cuda_linear_head, ...), uploaded once when created.
  DeviceBuffer det_rows, det_product, det_out, det_xs, det_y, det_g, det_table, knn_heaps, knn_sizes;
  std::vector<double> host_stage;  // results copied back before they are added into the caller's arrays
  TrainScratch train;              // scratch of the training losses (train_ops.h)

  void free_buffers() noexcept;
};

// The one State. Deliberately leaked: a static State would run cudaFree/cublasDestroy from a static destructor at
// process exit, possibly after the CUDA driver has been torn down. Resources are released by shutdown.
State& state();

// Copies msg into buf[len], truncated to fit and always NUL-terminated.
void set_message(char* buf, size_t len, const char* msg) noexcept;

// Waits for everything enqueued on the stream and clears non-sticky errors; used after a failure so that no
// in-flight work still references a buffer the next call might free.
void quiesce(State& s) noexcept;

// Inside a catch block: writes the current exception's message to err and returns its ncod_cuda_status.
int report_current_exception(char* err, size_t errlen) noexcept;

// Creates the context, stream and cuBLAS handle on first use; afterwards only re-selects the device for this thread.
void init_locked(State& s);

// Runs f(state) under the lock; NCOD_CUDA_OK, or the failure's status and message.
template <class F>
int guarded(char* err, size_t errlen, F&& f) noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    try {
      f(s);
    } catch (...) {
      quiesce(s);
      throw;
    }
    set_message(err, errlen, "");
    return NCOD_CUDA_OK;
  } catch (...) {
    return report_current_exception(err, errlen);
  }
}

// Runs f(state) under the lock for a function with no way to report (void ABI functions).
template <class F>
void guarded_void(F&& f) noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    f(s);
  } catch (...) {
    // std::mutex::lock can only fail with a system_error; nothing to report through a void function.
  }
}

}  // namespace ncod::cuda

#endif  // NCOD_CUDA_PLUGIN_STATE_H
