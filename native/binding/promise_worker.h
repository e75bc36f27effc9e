// Runs native work off the JS thread and settles a Promise. Inputs stay referenced until it settles;
// a cancel flag and a throttled progress callback reach the work through ncod::RunContext.
#pragma once

#include <napi.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "../core/run_context.h"
#include "convert.h"

namespace ncod::binding {

class PromiseWorker : public Napi::AsyncProgressWorker<double> {
 public:
  using Work = std::function<void(const RunContext&)>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  // Queues the work and returns its Promise. `keep_alive` holds the JS inputs the work reads.
  static Napi::Promise Start(Napi::Env env, const char* name, std::vector<Napi::Value> keep_alive,
                             const int32_t* cancel_flag, Napi::Function on_progress, Work work, Result result);

 protected:
  void Execute(const ExecutionProgress& progress) override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;
  void OnProgress(const double* data, size_t count) override;

 private:
  PromiseWorker(Napi::Env env, const char* name, std::vector<Napi::Value> keep_alive, const int32_t* cancel_flag,
                Napi::Function on_progress, Work work, Result result);

  // Settles the promise; during environment teardown (a worker thread terminated with calls in flight) JS can no
  // longer run and every failure here is swallowed instead of escaping a finaliser (which would abort the process).
  void Settle(bool ok, napi_value value);

  Napi::Promise::Deferred deferred_;
  CallHolds holds_;  // the native copies of the inputs (convert.h), adopted from the binding call's scope
  std::vector<Napi::Reference<Napi::Value>> keep_alive_;
  const int32_t* cancel_flag_;
  Napi::FunctionReference on_progress_;
  Work work_;
  Result result_;
  ErrorCode error_code_ = ErrorCode::Backend;
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace ncod::binding
