// What BLAS the CPU backend runs on, for `ncod info` and benchmark reports.
#pragma once

#include <cstddef>

#include <string>

namespace ncod {

struct BlasInfo {
  std::string library;   // e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
  std::string core;      // the kernel set OpenBLAS picked for this CPU
  std::string threading; // "pthreads", "openmp" or "sequential"
  int blas_threads;      // threads OpenBLAS uses for one call (1: ncod splits rows across its own threads)
  int openmp_threads;    // threads ncod's own OpenMP loops use
  size_t reduced_teams;  // regions that ran with fewer threads than asked: the system could not start more
};

BlasInfo blas_info();
// The most threads set_cpu_threads accepts: 4 × the hardware threads (at least 4).
size_t max_cpu_threads();
// Throws ERR_OUT_OF_MEMORY when that many threads cannot be created (libgomp would end the process at its next
// parallel region: it does not report a failed pthread_create): each is started once, all at the same time, first.
void set_cpu_threads(int threads);
// OpenMP keeps the thread count per calling thread, so work on a libuv worker would not see set_cpu_threads() from
// the JS thread: workers call this before running.
void apply_cpu_threads();

}  // namespace ncod
