// classStats({features, labels, rows, dim, numClasses, withScatter, allowEmptyClasses, backend, cancelFlag?,
//             onProgress?}) -> Promise<{counts, sums, means, scatter}>
#include <memory>

#include "../core/backend.h"
#include "../core/checks.h"
#include "../core/class_stats.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

Napi::Value ClassStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "classStats");
    auto features = o.float32_array("features");
    auto labels = o.int32_array("labels");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim");
    ClassStatsOptions options;
    options.num_classes = o.positive_size("numClasses", size_t(1) << 24);
    options.with_scatter = o.boolean("withScatter");
    options.allow_empty_classes = o.boolean("allowEmptyClasses");
    const BackendKind kind = o.backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();

    check_matrix_length("features", features.length, rows, dim);
    check_label_count(labels.length, rows);
    if (options.with_scatter && dim > 16384) {
      fail(ErrorCode::Shape, "dim with withScatter", "at most 16384 (the scatter is dim×dim)", std::to_string(dim));
    }

    auto stats = std::make_shared<ncod::ClassStats>();
    const LabelledRows data{features.data, labels.data, rows, dim};
    return PromiseWorker::Start(
        env, "ncod.classStats", o.read_inputs(), cancel, on_progress,
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
NCOD_EXPORT("classStats", ClassStats);

}  // namespace ncod::binding
