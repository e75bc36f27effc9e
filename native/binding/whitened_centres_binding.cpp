// WhitenedCentres as a JS class (binding.d.ts RawWhitenedCentres): a fitted whitened-distance model (Mahalanobis
// centres, a relative background, a ViM/Residual/NECO projection) in native memory, prepared once per backend
// (core/detectors/fitted_whitened.h). The scores that read it are functions taking it in their options
// (mahalanobisScore, subspaceScores in detectors_binding.cpp).
//   new WhitenedCentres({ dim, dims, count, shift, whitening, centres })   (a RawWhitenedModel, copied)
//   dim(), dispose()
#include <memory>
#include <string>

#include "../core/detectors.h"
#include "../core/detectors/fitted_whitened.h"
#include "handles.h"
#include "native_handle.h"
#include "options_reader.h"
#include "exports.h"

namespace ncod::binding {

namespace {

class WhitenedCentresWrap : public NativeHandle<WhitenedCentresWrap, FittedWhitened> {
 public:
  static constexpr const char* kClassName = "WhitenedCentres";
  static constexpr napi_type_tag kTypeTag = {0x6e636f64'77686974ULL, 0x656e6564'63656e31ULL};

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {InstanceMethod<&WhitenedCentresWrap::Dim>("dim"),
                        InstanceMethod<&WhitenedCentresWrap::Dispose>("dispose")});
  }

  explicit WhitenedCentresWrap(const Napi::CallbackInfo& info) : NativeHandle(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      OptionsReader o = OptionsReader::only_argument(info, "WhitenedCentres");
      WhitenedModel m;
      m.dim = o.positive_size("dim", size_t(1) << 20);
      m.dims = o.positive_size("dims", m.dim);
      m.count = o.positive_size("count", size_t(1) << 24);
      const std::string d = std::to_string(m.dim), p = std::to_string(m.dims), c = std::to_string(m.count);
      m.shift = o.float64_vector("shift", m.dim, d + " elements (dim)");
      m.whitening = o.float64_vector("whitening", m.dims * m.dim, p + "×" + d + " elements (dims × dim)");
      m.centres = o.float64_vector("centres", m.count * m.dims, c + "×" + p + " elements (count × dims)");
      hold(env, info.This().As<Napi::Object>(), std::make_shared<FittedWhitened>(std::move(m)));
      return 0;
    });
  }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info) { return dispose_state(info); }
  Napi::Value Dim(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(live(info.Env())->dim())); });
  }
};

}  // namespace

std::shared_ptr<FittedWhitened> whitened_option(OptionsReader& o, const char* key) {
  return WhitenedCentresWrap::state_of(o.env(), o.value(key), o.field(key));
}

Napi::Function DefineWhitenedCentres(Napi::Env env) { return WhitenedCentresWrap::Define(env); }
NCOD_EXPORT("WhitenedCentres", DefineWhitenedCentres);

}  // namespace ncod::binding
