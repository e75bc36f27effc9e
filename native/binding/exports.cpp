#include "exports.h"

#include <vector>

namespace ncod::binding {

namespace {

struct Export {
  const char* name;
  ExportedFunction function;  // one of the two
  ExportedClass define;
};

// A function-local static: registrations run during static initialisation, in any order of translation units.
std::vector<Export>& registry() {
  static std::vector<Export> exports;
  return exports;
}

}  // namespace

ExportRegistration::ExportRegistration(const char* name, ExportedFunction function) {
  registry().push_back({name, function, nullptr});
}

ExportRegistration::ExportRegistration(const char* name, ExportedClass define) {
  registry().push_back({name, nullptr, define});
}

void set_registered_exports(Napi::Env env, Napi::Object exports) {
  for (const Export& e : registry()) {
    exports.Set(e.name, e.function ? Napi::Function::New(env, e.function, e.name) : e.define(env));
  }
}

}  // namespace ncod::binding
