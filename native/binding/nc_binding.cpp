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

namespace ncod::binding {

namespace {

const float* optional_float32(Napi::Env env, Napi::Value value, const char* what, size_t expected_length,
                              const std::string& expected) {
  if (value.IsNull() || value.IsUndefined()) return nullptr;
  auto view = float32_array(env, value, what);
  if (view.length != expected_length) fail(ErrorCode::Shape, what, expected, std::to_string(view.length) + " elements");
  return view.data;
}

}  // namespace

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

// nccAgreementCount(features, rows, dim, means (Float64Array C×d), weights (C×d), bias|null, classes, backend,
//                   cancelFlag) -> Promise<number>: NC4's second pass over one batch (nc_metrics.h).
Napi::Value NccAgreementCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arity(info, 9, "nccAgreementCount");
    const size_t rows = count(env, info[1], "rows");
    const size_t dim = count(env, info[2], "dim", size_t(1) << 20);
    if (dim < 1) fail(ErrorCode::Shape, "dim", "at least 1", "0");
    auto features = float32_array(env, info[0], "features");
    check_matrix_length("features", features.length, rows, dim);
    const size_t C = count(env, info[6], "classes", size_t(1) << 20);
    if (C < 1) fail(ErrorCode::InvalidArgument, "classes", "at least 1", "0");
    const std::string cd = std::to_string(C) + "×" + std::to_string(dim) + " elements (classes × dim)";
    if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw_error(env, ErrorCode::Dtype, "means: expected Float64Array");
    }
    auto means_array = info[3].As<Napi::Float64Array>();
    if (means_array.ElementLength() != C * dim) fail(ErrorCode::Shape, "means", cd, std::to_string(means_array.ElementLength()) + " elements");
    auto means = std::make_shared<std::vector<double>>(means_array.Data(), means_array.Data() + C * dim);
    const float* weights = optional_float32(env, info[4], "weights", C * dim, cd);
    if (!weights) throw_error(env, ErrorCode::InvalidArgument, "weights: expected a Float32Array, got null");
    const float* bias = optional_float32(env, info[5], "bias", C, std::to_string(C) + " elements (classes)");
    const auto kind = static_cast<BackendKind>(count(env, info[7], "backend", 1));
    const float* x = features.data;
    auto result = std::make_shared<size_t>(0);
    return PromiseWorker::Start(
        env, "ncod.nccAgreementCount", {info[0], info[4], info[5], info[8]}, cancel_flag(env, info[8], "cancelFlag"),
        Napi::Function(),
        [=](const RunContext& context) {
          *result = ncc_agreement_count(get_backend(kind), x, rows, dim, means->data(), weights, bias, C, context);
        },
        [result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, double(*result)); });
  });
}

}  // namespace ncod::binding
