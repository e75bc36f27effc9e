#include "blas_info.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "../core/error.h"
#include "parallel.h"

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
  info.reduced_teams = cpu::reduced_teams();
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
  // Refused now when the system cannot start them now; later, each region checks again (cpu::startable_team).
  const int started = cpu::start_and_stop_threads(threads - 1) + 1;
  if (started < threads) {
    fail(ErrorCode::OutOfMemory, "threads", std::to_string(threads) + " threads that the system can start",
         std::to_string(started) + " that started");
  }
  requested_threads = threads;
  omp_set_num_threads(threads);
}

void apply_cpu_threads() {
  if (const int threads = requested_threads.load()) omp_set_num_threads(threads);
}

}  // namespace ncod
