#include "blas_info.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "../core/error.h"

namespace ncod {

BlasInfo blas_info() {
  BlasInfo info;
  info.library = openblas_get_config();
  info.core = openblas_get_corename();
  switch (openblas_get_parallel()) {
    case 0: info.threading = "sequential"; break;
    case 1: info.threading = "pthreads"; break;
    case 2: info.threading = "openmp"; break;
    default: info.threading = "unknown"; break;
  }
  info.blas_threads = openblas_get_num_threads();
  info.openmp_threads = omp_get_max_threads();
  return info;
}

namespace {
std::atomic<int> requested_threads{0};  // 0: OpenMP's default (OMP_NUM_THREADS or the core count)
}  // namespace

// OpenBLAS stays single-threaded (see cpu_backend.cpp): the threads are ncod's own, over rows.
size_t max_cpu_threads() { return std::max<size_t>(4, size_t(4) * std::thread::hardware_concurrency()); }

void set_cpu_threads(int threads) {
  if (threads < 1 || size_t(threads) > max_cpu_threads()) {
    fail(ErrorCode::InvalidArgument, "threads", "an integer in [1, " + std::to_string(max_cpu_threads()) + "]",
         std::to_string(threads));
  }
  {
    // All threads alive together, as OpenMP's team would be (default attributes, like libgomp's without OMP_STACKSIZE).
    std::vector<std::thread> probe;
    std::string failure;
    try {
      probe.reserve(static_cast<size_t>(threads));
      for (int t = 1; t < threads; ++t) probe.emplace_back([] {});
    } catch (const std::exception& e) {
      failure = e.what();
    }
    for (std::thread& t : probe) t.join();
    if (!failure.empty()) {
      fail(ErrorCode::OutOfMemory, "threads", std::to_string(threads) + " threads that the system can start",
           "a failure after " + std::to_string(probe.size() + 1) + " (" + failure + ")");
    }
  }
  requested_threads = threads;
  omp_set_num_threads(threads);
}

void apply_cpu_threads() {
  if (const int threads = requested_threads.load()) omp_set_num_threads(threads);
}

}  // namespace ncod
