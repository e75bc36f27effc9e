// The plugin's one exported symbol: its table of entry points, generated from NCOD_CUDA_FUNCTIONS in the order the
// ncod_cuda_api struct is generated in, so no entry can land in another's slot.
#include "entry_points.h"

#if defined(__GNUC__)
#define NCOD_CUDA_EXPORT __attribute__((visibility("default")))
#else
#define NCOD_CUDA_EXPORT
#endif

extern "C" NCOD_CUDA_EXPORT const ncod_cuda_api* ncod_cuda_get_api(int requested_version) {
  static const ncod_cuda_api api = {
      NCOD_CUDA_ABI_VERSION,
#define NCOD_CUDA_TABLE_ENTRY(ret, name, params, doc) &ncod_cuda_##name,
      NCOD_CUDA_FUNCTIONS(NCOD_CUDA_TABLE_ENTRY)
#undef NCOD_CUDA_TABLE_ENTRY
  };
  return requested_version == NCOD_CUDA_ABI_VERSION ? &api : nullptr;
}
