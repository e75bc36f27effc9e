#include "js_errors.h"

#include "addon_data.h"

namespace ncod::binding {

AddonData& addon_data(Napi::Env env) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData(data);  // deleted by node-addon-api when the environment shuts down
  }
  return *data;
}

void set_error_class(Napi::Env env, Napi::Function error_class) {
  addon_data(env).error_class = Napi::Persistent(error_class);
}

Napi::Object make_error(Napi::Env env, ErrorCode code, const std::string& message) {
  AddonData& data = addon_data(env);
  const char* name = error_code_name(code);
  if (!data.error_class.IsEmpty()) {
    return data.error_class.New({Napi::String::New(env, name), Napi::String::New(env, message)});
  }
  Napi::Object error = Napi::Error::New(env, message).Value();
  error.Set("code", Napi::String::New(env, name));
  return error;
}

void throw_error(Napi::Env env, ErrorCode code, const std::string& message) {
  throw Napi::Error(env, make_error(env, code, message));
}

}  // namespace ncod::binding
