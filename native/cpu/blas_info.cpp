#include "blas_info.h"

#include <cblas.h>
#include <omp.h>

#include <atomic>

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
void set_cpu_threads(int threads) {
  requested_threads = threads;
  omp_set_num_threads(threads);
}

void apply_cpu_threads() {
  if (const int threads = requested_threads.load()) omp_set_num_threads(threads);
}

}  // namespace ncod
