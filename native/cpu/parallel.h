// OpenMP helpers of the CPU kernels.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <exception>

namespace ncod::cpu {

// Below this many elements of work a parallel region costs more than it saves.
constexpr size_t kParallelMinElements = size_t(1) << 15;

// Starts up to `count` threads, all alive at once as a team's would be, and stops them; returns how many started.
// Each allocates once, so glibc gives it an arena now, as it would a team thread (arenas outlive their threads and
// are reused): the probe takes the address space the team will take.
int start_and_stop_threads(int count);

// The team an OpenMP region started from this thread may have: `wanted`, or fewer when the system cannot start that
// many threads now. libgomp ends the process when pthread_create fails inside a region, so the threads a region would
// add to this thread's pool are started (and stopped) here first, where a failure can be handled. Every region's
// num_threads comes from here, through threads_for, and must be used as returned: this tracks the pool's size.
int startable_team(int wanted);

// Regions that ran with fewer threads than asked because the system could not start more (process-wide).
size_t reduced_teams();

// Threads worth using for `work_elements` of work split into `blocks` independent pieces.
inline int threads_for(size_t work_elements, size_t blocks, size_t min_elements = kParallelMinElements) {
  if (work_elements < min_elements) return 1;
  return startable_team(
      static_cast<int>(std::min<size_t>(static_cast<size_t>(omp_get_max_threads()), std::max<size_t>(blocks, 1))));
}

// body(i, thread) for i in [0, n), statically scheduled over `threads` threads. An exception (say, a failed
// allocation) must not leave an OpenMP region, where it would end the process: the first one is rethrown after it.
template <typename Body>
void parallel_for(size_t n, int threads, Body&& body) {
  std::exception_ptr error;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < n; ++i) {
    try {
      body(i, omp_get_thread_num());
    } catch (...) {
#pragma omp critical(ncod_parallel_for_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace ncod::cpu
