// Errors with stable codes shared by every layer. The binding turns them into JS NcodError objects.
#pragma once

#include <stdexcept>
#include <string>

namespace ncod {

enum class ErrorCode {
  Shape,
  Dtype,
  LabelRange,
  NotFinite,
  EmptyClass,
  InvalidArgument,
  BackendUnavailable,
  Backend,
  FileFormat,
  Aborted,
  OutOfMemory,
};

// The JS-visible name, e.g. "ERR_SHAPE".
const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Throws Error(code, "<what>: expected <expected>, got <got>").
[[noreturn]] void fail(ErrorCode code, const std::string& what, const std::string& expected,
                       const std::string& got);

}  // namespace ncod
