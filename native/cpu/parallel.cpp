#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace ncod::cpu {

namespace {

std::atomic<size_t> reduced_team_count{0};

}  // namespace

int start_and_stop_threads(int count) {
  std::mutex mutex;
  std::condition_variable released;
  bool go = false;
  std::vector<std::thread> started;
  try {
    started.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      started.emplace_back([&] {
        std::free(std::malloc(1));
        std::unique_lock<std::mutex> lock(mutex);
        released.wait(lock, [&] { return go; });
      });
    }
  } catch (const std::exception&) {
    // std::system_error from a failed pthread_create, or bad_alloc: fewer threads, handled by the caller.
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    go = true;
  }
  released.notify_all();
  for (std::thread& t : started) t.join();
  return static_cast<int>(started.size());
}

int startable_team(int wanted) {
  // libgomp (12) keeps one pool per thread that starts regions: a region of n > 1 threads leaves exactly n - 1 pool
  // threads (it starts the missing ones and releases the extra ones); a region of one thread leaves the pool alone.
  thread_local int pool = 1;  // this thread included
  if (wanted <= 1) return 1;
  if (wanted <= pool) {
    pool = wanted;
    return wanted;
  }
  const int missing = wanted - pool;
  const int started = start_and_stop_threads(missing);
  if (started == missing) {
    pool = wanted;
    return wanted;
  }
  // One fewer than could be started, for what other threads start meanwhile.
  reduced_team_count.fetch_add(1, std::memory_order_relaxed);
  pool += started > 0 ? started - 1 : 0;
  return pool;
}

size_t reduced_teams() { return reduced_team_count.load(std::memory_order_relaxed); }

}  // namespace ncod::cpu
