#include "promise_worker.h"

#include "../cpu/blas_info.h"
#include "js_errors.h"

namespace ncod::binding {

namespace {
// Progress reaches JS at most this often; the final report is always delivered.
constexpr auto kProgressInterval = std::chrono::milliseconds(100);
}  // namespace

PromiseWorker::PromiseWorker(Napi::Env env, const char* name, std::vector<Napi::Value> keep_alive,
                             const int32_t* cancel_flag, Napi::Function on_progress, Work work, Result result)
    : Napi::AsyncProgressWorker<double>(env, name),
      deferred_(Napi::Promise::Deferred::New(env)),
      holds_(take_call_holds()),
      cancel_flag_(cancel_flag),
      work_(std::move(work)),
      result_(std::move(result)) {
  // References to primitives are not allowed before Node-API 10, and primitives need no keeping alive.
  for (auto& value : keep_alive) {
    if (value.IsObject()) keep_alive_.push_back(Napi::Persistent(value));
  }
  if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
}

Napi::Promise PromiseWorker::Start(Napi::Env env, const char* name, std::vector<Napi::Value> keep_alive,
                                   const int32_t* cancel_flag, Napi::Function on_progress, Work work,
                                   Result result) {
  auto* worker = new PromiseWorker(env, name, std::move(keep_alive), cancel_flag, on_progress, std::move(work),
                                   std::move(result));
  Napi::Promise promise = worker->deferred_.Promise();
  worker->Queue();  // node-addon-api deletes the worker after OnOK/OnError
  return promise;
}

void PromiseWorker::Execute(const ExecutionProgress& progress) {
  const bool wants_progress = !on_progress_.IsEmpty();
  RunContext context(cancel_flag_, [&](double fraction) {
    if (!wants_progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_progress_ < kProgressInterval) return;
    last_progress_ = now;
    progress.Send(&fraction, 1);
  });
  apply_cpu_threads();
  try {
    work_(context);
  } catch (const Error& e) {
    error_code_ = e.code();
    SetError(e.what());
  } catch (const std::bad_alloc&) {
    error_code_ = ErrorCode::OutOfMemory;
    SetError("out of memory");
  } catch (const std::exception& e) {
    error_code_ = ErrorCode::Backend;
    SetError(e.what());
  }
}

void PromiseWorker::Settle(bool ok, napi_value value) {
  try {
    if (ok) {
      deferred_.Resolve(value);
    } else {
      deferred_.Reject(value);
    }
  } catch (...) {
    // Fails only when the environment is going away: nobody is left to observe the promise.
  }
}

void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  try {
    try {
      write_back_all(env, holds_.write_backs);  // outputs reach the caller's arrays only when the call succeeded
      Settle(true, result_(env));
    } catch (const Napi::Error& e) {
      Settle(false, e.Value());
    } catch (const std::bad_alloc&) {
      Settle(false, make_error(env, ErrorCode::OutOfMemory, "out of memory while returning the result"));
    }
  } catch (...) {
    // Only reachable during teardown (no JS can run to build an error object); the promise is abandoned.
  }
}

void PromiseWorker::OnError(const Napi::Error& error) {
  try {
    Settle(false, make_error(Env(), error_code_, error.Message()));
  } catch (...) {
    // As in OnOK: the environment is going away.
  }
}

void PromiseWorker::OnProgress(const double* data, size_t count) {
  if (on_progress_.IsEmpty() || count == 0) return;
  // A throwing progress callback must not take the process down; its exception is dropped (and so is any failure
  // during teardown).
  try {
    Napi::HandleScope scope(Env());
    on_progress_.Call({Napi::Number::New(Env(), data[0])});
  } catch (...) {
  }
}

}  // namespace ncod::binding
