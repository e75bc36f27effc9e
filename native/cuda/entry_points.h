// The plugin's entry points: ncod_cuda_<name> for each NCOD_CUDA_FUNCTIONS entry, declared from that list, so a
// definition whose type differs from the ABI does not compile (two C functions of one name). Defined by concern in
// context.cpp, class_sums_api.cpp, centred_pass.cpp, detector_api.cpp and train_api.cpp; get_api.cpp tables them.
#ifndef NCOD_CUDA_ENTRY_POINTS_H
#define NCOD_CUDA_ENTRY_POINTS_H

#include "ncod_cuda_abi.h"

extern "C" {
#define NCOD_CUDA_DECLARE_ENTRY(ret, name, params, doc) ret ncod_cuda_##name params;
NCOD_CUDA_FUNCTIONS(NCOD_CUDA_DECLARE_ENTRY)
#undef NCOD_CUDA_DECLARE_ENTRY
}

#endif  // NCOD_CUDA_ENTRY_POINTS_H
