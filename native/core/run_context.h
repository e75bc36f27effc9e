// What a long-running call needs from its caller: a cancel flag and a progress sink.
#pragma once

#include <cstdint>
#include <functional>

#include "error.h"

namespace ncod {

class RunContext {
 public:
  RunContext() = default;
  // flag: an int32 the caller sets to non-zero to cancel (read atomically, written from the JS thread).
  RunContext(const int32_t* cancel_flag, std::function<void(double)> on_progress)
      : cancel_flag_(cancel_flag), on_progress_(std::move(on_progress)) {}

  bool cancel_requested() const {
    return cancel_flag_ != nullptr && __atomic_load_n(cancel_flag_, __ATOMIC_RELAXED) != 0;
  }
  void throw_if_cancelled() const {
    if (cancel_requested()) throw Error(ErrorCode::Aborted, "the operation was aborted");
  }
  // A context for one stage of a longer computation: its progress 0..1 maps onto from..to here.
  RunContext stage(double from, double to) const {
    if (!on_progress_) return RunContext(cancel_flag_, nullptr);
    auto parent = on_progress_;
    return RunContext(cancel_flag_, [parent, from, to](double f) { parent(from + (to - from) * f); });
  }

  // fraction in [0, 1]; the binding throttles delivery to JS.
  void progress(double fraction) const {
    if (on_progress_) on_progress_(fraction);
  }

 private:
  const int32_t* cancel_flag_ = nullptr;
  std::function<void(double)> on_progress_;
};

}  // namespace ncod
