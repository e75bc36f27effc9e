// The shared part of the JS classes that hold a fitted detector's state in native memory (LinearHead,
// WhitenedCentres; binding.d.ts RawLinearHead / RawWhitenedCentres): the state behind a shared_ptr, its bytes
// reported to V8 (AdjustExternalMemory) while held, dispose() and the finaliser releasing it (calls in flight hold
// their own reference until they settle), and a type-tagged unwrap, so that another object (another class's handle,
// Object.create(prototype)) passed where a handle belongs is ERR_INVALID_ARGUMENT, never a wrong cast.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "../core/error.h"
#include "convert.h"
#include "js_errors.h"

namespace ncod::binding {

template <typename Wrap, typename State>
class NativeHandle : public Napi::ObjectWrap<Wrap> {
 public:
  explicit NativeHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Wrap>(info) {}

  void Finalize(Napi::Env env) override { report_bytes(env, 0); }

  // The live state of the handle `value` (an instance of Wrap made by its constructor); `what` names the field.
  static std::shared_ptr<State> state_of(Napi::Env env, Napi::Value value, const std::string& what) {
    bool tagged = false;
    if (value.IsObject()) napi_check_object_type_tag(env, value, &Wrap::kTypeTag, &tagged);
    if (!tagged) fail(ErrorCode::InvalidArgument, what, std::string("a ") + Wrap::kClassName, describe_js(value));
    return Napi::ObjectWrap<Wrap>::Unwrap(value.As<Napi::Object>())->live(env);
  }

 protected:
  // Called by the constructor once the state is made: tags the object and reports the state's bytes.
  void hold(Napi::Env env, Napi::Object self, std::shared_ptr<State> state) {
    state_ = std::move(state);
    napi_type_tag_object(env, self, &Wrap::kTypeTag);
    report_bytes(env, state_->bytes());
  }

  std::shared_ptr<State> live(Napi::Env env) const {
    if (!state_) throw_error(env, ErrorCode::InvalidArgument, std::string(Wrap::kClassName) + ": expected a live handle, got a disposed one");
    return state_;
  }

  // dispose(): frees the state now (safe to call again). Each class registers its own Dispose calling this (an
  // InstanceMethod must be a member of the class itself).
  Napi::Value dispose_state(const Napi::CallbackInfo& info) {
    state_.reset();
    report_bytes(info.Env(), 0);
    return info.Env().Undefined();
  }

 private:
  void report_bytes(Napi::Env env, size_t bytes) {
    const int64_t now = static_cast<int64_t>(bytes);
    if (now != external_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - external_bytes_);
    external_bytes_ = now;
  }

  std::shared_ptr<State> state_;
  int64_t external_bytes_ = 0;
};

}  // namespace ncod::binding
