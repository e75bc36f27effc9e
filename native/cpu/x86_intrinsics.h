// <immintrin.h> for the kernels that choose an AVX-512 body at load time; defines NCOD_X86_INTRINSICS where the
// compiler offers per-function targets (GCC and Clang on x86-64).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define NCOD_X86_INTRINSICS 1
// GCC 12's AVX-512 headers trip its own uninitialised-variable warnings (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
