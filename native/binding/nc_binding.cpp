// ncMetrics({features, labels, rows, dim, numClasses, weights?, bias?, oodFeatures?, oodRows?, weightedGlobalMean,
//            rankTolerance?, backend, cancelFlag?, onProgress?}) -> Promise<metrics object>
#include <cmath>
#include <memory>

#include "../core/backend.h"
#include "../core/checks.h"
#include "../core/nc_metrics.h"
#include "bindings.h"
#include "convert.h"
#include "js_errors.h"
#include "options_reader.h"
#include "promise_worker.h"
#include "exports.h"

namespace ncod::binding {

double rank_tolerance(OptionsReader& o) {
  Napi::Value v = o.value("rankTolerance");
  if (v.IsUndefined()) return -1;
  const double tolerance = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 1;
  if (!(tolerance < 1)) fail(ErrorCode::InvalidArgument, o.field("rankTolerance"), "a number below 1 (negative for the default)", describe_js(v));
  return tolerance;
}

Napi::Object nc_metrics_to_js(Napi::Env env, const NcMetrics& m) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("n", double(m.n));
  out.Set("dim", double(m.dim));
  out.Set("classes", double(m.classes));
  out.Set("rank", double(m.rank));
  const std::pair<const char*, double> values[] = {
      {"nc1", m.nc1},
      {"nc1_quotient", m.nc1_quotient},
      {"nc1_cdnv", m.nc1_cdnv},
      {"nc2_equinorm_means", m.nc2_equinorm_means},
      {"nc2_equiangularity_means", m.nc2_equiangularity_means},
      {"nc2_etf_error_means", m.nc2_etf_error_means},
      {"nc2_equinorm_weights", m.nc2_equinorm_weights},
      {"nc2_etf_error_weights", m.nc2_etf_error_weights},
      {"nc3_self_duality", m.nc3_self_duality},
      {"nc3_papyan", m.nc3_papyan},
      {"nc4_ncc_agreement", m.nc4_ncc_agreement},
      {"nc4_bias_relation", m.nc4_bias_relation},
      {"nc5_ood_orthogonality", m.nc5_ood_orthogonality},
      {"gnc2_hyperspherical_uniformity", m.gnc2_hyperspherical_uniformity},
      {"unc3_uniform_duality", m.unc3_uniform_duality},
  };
  // Metrics that need inputs that were not given are null, not NaN, so JSON stays valid.
  for (const auto& [key, value] : values) out.Set(key, std::isnan(value) ? env.Null() : Napi::Number::New(env, value));
  return out;
}

Napi::Value NcMetricsBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "ncMetrics");
    auto features = o.float32_array("features");
    auto labels = o.int32_array("labels");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim");
    const size_t C = o.size("numClasses", size_t(1) << 20);
    auto weights = o.optional_float32_array("weights");
    auto bias = o.optional_float32_array("bias");
    auto ood = o.optional_float32_array("oodFeatures");
    const size_t ood_rows = given(ood) ? o.size("oodRows") : 0;
    NcInputs in;
    in.weighted_global_mean = o.boolean("weightedGlobalMean");
    in.rank_tolerance = rank_tolerance(o);
    const BackendKind kind = o.backend();
    const int32_t* cancel = o.cancel_flag();
    Napi::Function on_progress = o.progress();

    check_matrix_length("features", features.length, rows, dim);
    check_label_count(labels.length, rows);
    in.data = LabelledRows{features.data, labels.data, rows, dim};
    in.num_classes = C;
    check_optional_length(o.field("weights"), weights, C * dim, std::to_string(C) + " × " + std::to_string(dim) + " elements (numClasses × dim)");
    check_optional_length(o.field("bias"), bias, C, std::to_string(C) + " elements (numClasses)");
    in.weights = weights.data;
    in.bias = bias.data;
    if (given(ood)) {
      check_matrix_length("oodFeatures", ood.length, ood_rows, dim);
      in.ood = ood.data;
      in.ood_rows = ood_rows;
    }
    check_nc_inputs(in);

    auto result = std::make_shared<NcMetrics>();
    return PromiseWorker::Start(
        env, "ncod.ncMetrics", o.read_inputs(), cancel, on_progress,
        [result, in, kind](const RunContext& context) {
          *result = compute_nc_metrics(get_backend(kind), in, context);
        },
        [result](Napi::Env env) -> Napi::Value { return nc_metrics_to_js(env, *result); });
  });
}
NCOD_EXPORT("ncMetrics", NcMetricsBinding);

// nccAgreementCount({ features, rows, dim, means (Float64Array C×d), weights (C×d), bias?, classes, backend?,
//                     cancelFlag? }) -> Promise<number>: NC4's second pass over one batch (nc_metrics.h).
Napi::Value NccAgreementCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    OptionsReader o = OptionsReader::only_argument(info, "nccAgreementCount");
    const size_t rows = o.size("rows");
    const size_t dim = o.size("dim", size_t(1) << 20);
    if (dim < 1) fail(ErrorCode::Shape, o.field("dim"), "at least 1", "0");
    auto features = o.float32_matrix("features", rows, dim);
    const size_t C = o.positive_size("classes", size_t(1) << 20);
    const std::string cd = std::to_string(C) + "×" + std::to_string(dim) + " elements (classes × dim)";
    auto means = std::make_shared<std::vector<double>>(o.float64_vector("means", C * dim, cd));
    auto weights = o.float32_matrix("weights", C, dim);
    auto bias = o.optional_float32_array("bias");
    check_optional_length(o.field("bias"), bias, C, std::to_string(C) + " elements (classes)");
    const BackendKind kind = o.optional_backend();
    const int32_t* cancel = o.cancel_flag();
    const float* x = features.data;
    const float* w = weights.data;
    const float* b = bias.data;
    auto result = std::make_shared<size_t>(0);
    return PromiseWorker::Start(
        env, "ncod.nccAgreementCount", o.read_inputs(), cancel, Napi::Function(),
        [=](const RunContext& context) {
          *result = ncc_agreement_count(get_backend(kind), x, rows, dim, means->data(), w, b, C, context);
        },
        [result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, double(*result)); });
  });
}
NCOD_EXPORT("nccAgreementCount", NccAgreementCount);

}  // namespace ncod::binding
