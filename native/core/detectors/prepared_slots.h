// What a backend prepares from a fitted detector's state (Backend::prepare_*), kept per backend and made on the first
// score on that backend: scoring N chunks prepares once, not N times (the CPU packs, CUDA uploads).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "../backend.h"

namespace ncod {

// One slot per BackendKind (Cuda is the last).
constexpr size_t kBackendKinds = static_cast<size_t>(BackendKind::Cuda) + 1;

// How many prepared objects every PreparedSlots in the process has made: tests read it to prove "prepared once".
inline std::atomic<size_t>& prepared_state_count() {
  static std::atomic<size_t> count{0};
  return count;
}

template <typename Prepared>
class PreparedSlots {
 public:
  // The backend's prepared object, made by make(backend) on the first call for that backend. The reference stays
  // valid until reset() or destruction; the owner keeps what the object borrows alive and unchanged until then.
  template <typename Make>
  Prepared& get(BackendKind kind, Make&& make) {
    std::lock_guard lock(mutex_);
    auto& slot = slots_[static_cast<size_t>(kind)];
    if (!slot) {
      slot = make(get_backend(kind));
      prepared_state_count().fetch_add(1);
    }
    return *slot;
  }

  // Drops every prepared object (the state they borrow is about to change); no score may be using them.
  void reset() {
    std::lock_guard lock(mutex_);
    for (auto& slot : slots_) slot.reset();
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<Prepared> slots_[kBackendKinds];
};

}  // namespace ncod
