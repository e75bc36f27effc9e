// classStats(features, labels, rows, dim, numClasses, withScatter, allowEmptyClasses, backend, cancelFlag,
//            onProgress) -> Promise<{counts, sums, means, scatter}>
#include <memory>

#include "../core/backend.h"
#include "../core/checks.h"
#include "../core/class_stats.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace ncod::binding {

Napi::Value ClassStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 10, "classStats");
    auto features = float32_array(env, info[0], "features");
    auto labels = int32_array(env, info[1], "labels");
    const size_t rows = count(env, info[2], "rows");
    const size_t dim = count(env, info[3], "dim");
    const size_t num_classes = count(env, info[4], "numClasses", size_t(1) << 24);
    ClassStatsOptions options;
    options.num_classes = num_classes;
    options.with_scatter = boolean(env, info[5], "withScatter");
    options.allow_empty_classes = boolean(env, info[6], "allowEmptyClasses");
    const auto kind = static_cast<BackendKind>(count(env, info[7], "backend", 1));
    const int32_t* cancel = cancel_flag(env, info[8], "cancelFlag");
    Napi::Function on_progress = optional_function(env, info[9], "onProgress");

    check_matrix_length("features", features.length, rows, dim);
    check_label_count(labels.length, rows);
    if (num_classes < 1) fail(ErrorCode::InvalidArgument, "numClasses", "an integer >= 1", "0");
    if (options.with_scatter && dim > 16384) {
      fail(ErrorCode::Shape, "dim with withScatter", "at most 16384 (the scatter is dim×dim)", std::to_string(dim));
    }

    auto stats = std::make_shared<ncod::ClassStats>();
    const LabelledRows data{features.data, labels.data, rows, dim};
    return PromiseWorker::Start(
        env, "ncod.classStats", {features.owner, labels.owner, info[8]}, cancel, on_progress,
        [stats, data, options, kind](const RunContext& context) {
          *stats = compute_class_stats(get_backend(kind), data, options, context);
        },
        [stats](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("counts", to_float64_array(env, std::move(stats->counts)));
          out.Set("sums", to_float64_array(env, std::move(stats->sums)));
          out.Set("means", to_float64_array(env, std::move(stats->means)));
          out.Set("scatter", stats->scatter.empty() ? env.Null()
                                                    : Napi::Value(to_float64_array(env, std::move(stats->scatter))));
          return out;
        });
  });
}

}  // namespace ncod::binding
