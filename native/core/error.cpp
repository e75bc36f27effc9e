#include "error.h"

namespace ncod {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::Shape: return "ERR_SHAPE";
    case ErrorCode::Dtype: return "ERR_DTYPE";
    case ErrorCode::LabelRange: return "ERR_LABEL_RANGE";
    case ErrorCode::NotFinite: return "ERR_NOT_FINITE";
    case ErrorCode::EmptyClass: return "ERR_EMPTY_CLASS";
    case ErrorCode::InvalidArgument: return "ERR_INVALID_ARGUMENT";
    case ErrorCode::BackendUnavailable: return "ERR_BACKEND_UNAVAILABLE";
    case ErrorCode::Backend: return "ERR_BACKEND";
    case ErrorCode::FileFormat: return "ERR_FILE_FORMAT";
    case ErrorCode::Aborted: return "ERR_ABORTED";
    case ErrorCode::OutOfMemory: return "ERR_OUT_OF_MEMORY";
  }
  return "ERR_BACKEND";
}

void fail(ErrorCode code, const std::string& what, const std::string& expected, const std::string& got) {
  throw Error(code, what + ": expected " + expected + ", got " + got);
}

}  // namespace ncod
