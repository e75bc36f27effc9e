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
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

namespace {

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
      OptionsReader o = OptionsReader::only_argument(info, "KnnBank");
      bank_ = std::make_shared<KnnBank>(o.size("dim", size_t(1) << 24));
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
      OptionsReader o = OptionsReader::only_argument(info, "append");
      auto b = bank(env);
      const size_t rows = o.size("rows");
      const float* x = o.float32_matrix("features", rows, b->dim()).data;
      const bool normalise = o.optional_boolean("normalize", true);
      const int32_t* cancel = o.cancel_flag();
      // The wrap outlives the call: info.This() is kept alive until the promise settles.
      return PromiseWorker::Start(
          env, "ncod.KnnBank.append", o.read_inputs_and_this(info), cancel, Napi::Function(), [b, x, rows, normalise](const RunContext& context) { b->append(x, rows, normalise, context); },
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
      OptionsReader o = OptionsReader::only_argument(info, "score");
      auto b = bank(env);
      const size_t rows = o.size("rows");
      const float* x = o.float32_matrix("features", rows, b->dim()).data;
      const size_t k = o.size("k");
      b->check_k(k);
      const BackendKind backend = o.optional_backend();
      const int32_t* cancel = o.cancel_flag();
      Napi::Function on_progress = o.progress();
      auto result = std::make_shared<std::vector<double>>();
      return PromiseWorker::Start(
          env, "ncod.KnnBank.score", o.read_inputs_and_this(info), cancel, on_progress,
          [b, x, rows, k, backend, result](const RunContext& context) { *result = b->scores(backend, x, rows, k, context); },
          [result](Napi::Env env) -> Napi::Value { return to_float64_array(env, std::move(*result)); });
    });
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      OptionsReader o = OptionsReader::only_argument(info, "read");
      auto b = bank(env);
      const size_t start = o.size("start");
      const size_t rows = o.size("rows");
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
NCOD_EXPORT("KnnBank", DefineKnnBank);

}  // namespace ncod::binding
