// KnnBank as a JS class (binding.d.ts RawKnnBank): a fitted KNN detector's bank in native memory.
//   new KnnBank({ dim })
//   append({ features, rows, normalize?, cancelFlag? }) -> Promise<void>  (rows L2-normalised unless normalize is
//                                                  false; batch by batch, any total size)
//   reserve(rows)                                              (room for rows more, allocated at once)
//   checkK(k)                                                  (the one check of k against the bank's rows)
//   score({ features, rows, k, backend?, cancelFlag?, onProgress? }) -> Promise<Float64Array>
//   read({ start, rows }) -> Float32Array                      (a copy of normalised rows, for saving in pieces)
//   rows(), dim(), dispose()
// The bank's bytes are reported to V8 (AdjustExternalMemory) while the object holds it, so dropped banks trigger a
// collection; dispose() frees it at once (calls still in flight keep their reference until they settle).
#include <memory>

#include "../core/checks.h"
#include "../core/detectors/knn_bank.h"
#include "bindings.h"
#include "convert.h"
#include "detector_options.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace ncod::binding {

namespace {

// Float32 rows of the bank's width from o.features and o.rows.
TypedView<const float> rows_option(Napi::Env env, Napi::Object o, size_t dim, size_t& rows) {
  rows = count(env, o.Get("rows"), "rows");
  auto view = float32_array(env, o.Get("features"), "features");
  check_matrix_length("features", view.length, rows, dim);
  return view;
}

class KnnBankWrap : public Napi::ObjectWrap<KnnBankWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KnnBank",
                       {InstanceMethod<&KnnBankWrap::Append>("append"), InstanceMethod<&KnnBankWrap::CheckK>("checkK"),
                        InstanceMethod<&KnnBankWrap::Reserve>("reserve"),
                        InstanceMethod<&KnnBankWrap::Score>("score"), InstanceMethod<&KnnBankWrap::Read>("read"),
                        InstanceMethod<&KnnBankWrap::Rows>("rows"), InstanceMethod<&KnnBankWrap::Dim>("dim"),
                        InstanceMethod<&KnnBankWrap::Dispose>("dispose")});
  }

  KnnBankWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KnnBankWrap>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      check_arity(info, 1, "KnnBank");
      Napi::Object o = options_object(env, info[0], "KnnBank");
      bank_ = std::make_shared<KnnBank>(count(env, o.Get("dim"), "dim", size_t(1) << 24));
      return 0;
    });
  }

  void Finalize(Napi::Env env) override { report_bytes(env, 0); }

 private:
  std::shared_ptr<KnnBank> bank(Napi::Env env) const {
    if (!bank_) throw_error(env, ErrorCode::InvalidArgument, "KnnBank: expected a live bank, got a disposed one");
    return bank_;
  }

  // Moves V8's count of external memory to `bytes`.
  void report_bytes(Napi::Env env, size_t bytes) {
    const int64_t now = static_cast<int64_t>(bytes);
    if (now != external_bytes_) Napi::MemoryManagement::AdjustExternalMemory(env, now - external_bytes_);
    external_bytes_ = now;
  }

  Napi::Value Append(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "append");
      auto b = bank(env);
      Napi::Object o = options_object(env, info[0], "append");
      size_t rows = 0;
      const float* x = rows_option(env, o, b->dim(), rows).data;
      const bool normalise = o.Get("normalize").IsUndefined() || boolean(env, o.Get("normalize"), "normalize");
      Napi::Value flag = o.Get("cancelFlag");
      // The wrap outlives the call: info.This() is kept alive until the promise settles.
      return PromiseWorker::Start(
          env, "ncod.KnnBank.append", {info[0], flag, info.This()}, cancel_flag(env, flag, "cancelFlag"),
          Napi::Function(), [b, x, rows, normalise](const RunContext& context) { b->append(x, rows, normalise, context); },
          [this, b](Napi::Env env) -> Napi::Value {
            if (bank_ == b) report_bytes(env, b->bytes());
            return env.Undefined();
          });
    });
  }

  Napi::Value Reserve(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "reserve");
      auto b = bank(env);
      b->reserve(count(env, info[0], "rows"));
      return env.Undefined();
    });
  }

  Napi::Value CheckK(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "checkK");
      bank(env)->check_k(count(env, info[0], "k"));
      return env.Undefined();
    });
  }

  Napi::Value Score(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "score");
      auto b = bank(env);
      Napi::Object o = options_object(env, info[0], "score");
      size_t rows = 0;
      const float* x = rows_option(env, o, b->dim(), rows).data;
      const size_t k = count(env, o.Get("k"), "k");
      b->check_k(k);
      const BackendKind backend = backend_option(env, o);
      Napi::Value flag = o.Get("cancelFlag");
      auto result = std::make_shared<std::vector<double>>();
      return PromiseWorker::Start(
          env, "ncod.KnnBank.score", {info[0], flag, info.This()}, cancel_flag(env, flag, "cancelFlag"),
          optional_function(env, o.Get("onProgress"), "onProgress"),
          [b, x, rows, k, backend, result](const RunContext& context) { *result = b->scores(backend, x, rows, k, context); },
          [result](Napi::Env env) -> Napi::Value { return to_float64_array(env, std::move(*result)); });
    });
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      check_arity(info, 1, "read");
      auto b = bank(env);
      Napi::Object o = options_object(env, info[0], "read");
      const size_t start = count(env, o.Get("start"), "start");
      const size_t rows = count(env, o.Get("rows"), "rows");
      // Checked before allocating: a huge count must be refused, not attempted.
      b->check_range(start, rows);
      auto out = Napi::Float32Array::New(env, rows * b->dim());
      b->copy_rows(start, rows, out.Data());
      return out;
    });
  }

  Napi::Value Rows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, double(bank(env)->rows())); });
  }

  Napi::Value Dim(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, double(bank(env)->dim())); });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bank_.reset();
    report_bytes(env, 0);
    return env.Undefined();
  }

  std::shared_ptr<KnnBank> bank_;
  int64_t external_bytes_ = 0;
};

}  // namespace

Napi::Function DefineKnnBank(Napi::Env env) { return KnnBankWrap::Define(env); }

}  // namespace ncod::binding
