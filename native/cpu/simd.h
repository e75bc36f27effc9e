// The SIMD level of the hand-written CPU kernels, chosen once when the addon loads: the best the CPU offers, capped
// by the NCOD_SIMD environment variable (portable | avx2 | avx512), so every level can be tested on one machine.
// Each kernel with wide bodies picks among them with pick_by_level(); OpenBLAS dispatches on its own
// (OPENBLAS_CORETYPE caps it).
#pragma once

#include <string>

namespace ncod::cpu {

enum class SimdLevel : int {
  Portable = 0,  // baseline x86-64 (SSE2) or any other architecture
  Avx2 = 1,      // AVX2 + FMA
  Avx512 = 2,    // AVX-512 F, DQ, BW, VL (+ BF16 for the KNN filter where the CPU has it)
};

struct SimdConfig {
  SimdLevel level;      // in use
  SimdLevel supported;  // the best the CPU (and OS) supports
  bool bf16;            // AVX512-BF16 in use (level avx512 and the CPU has it)
  std::string error;    // non-empty when NCOD_SIMD holds something else than a level name (the addon then refuses to load)
};

// Read once (thread-safe, usable from static initialisers in any translation unit).
const SimdConfig& simd_config();
inline SimdLevel simd_level() { return simd_config().level; }
const char* simd_level_name(SimdLevel level);

// The variant for the level in use.
template <class F>
F pick_by_level(F portable, F avx2, F avx512) {
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512;
    case SimdLevel::Avx2: return avx2;
    default: return portable;
  }
}

}  // namespace ncod::cpu

// Per-function targets for the variants (GCC and Clang on x86-64). A body declared NCOD_INLINE_BODY is compiled
// anew inside each variant, with that variant's instruction set.
#if defined(__x86_64__) && defined(__GNUC__)
#define NCOD_SIMD_VARIANTS 1
#define NCOD_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define NCOD_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#endif
#define NCOD_INLINE_BODY static inline __attribute__((always_inline))

// Defines name##_variant, the function pointer to name##_body compiled for the SIMD level in use:
//   NCOD_INLINE_BODY double dot_body(const float* a, size_t n) { ... }
//   NCOD_LEVEL_VARIANTS(double, dot, (const float* a, size_t n), (a, n))
#ifdef NCOD_SIMD_VARIANTS
#define NCOD_LEVEL_VARIANTS(ret, name, params, args)                               \
  NCOD_TARGET_AVX512 static ret name##_avx512 params { return name##_body args; } \
  NCOD_TARGET_AVX2 static ret name##_avx2 params { return name##_body args; }     \
  static ret name##_portable params { return name##_body args; }                  \
  static const auto name##_variant = ::ncod::cpu::pick_by_level(name##_portable, name##_avx2, name##_avx512);
#else
#define NCOD_LEVEL_VARIANTS(ret, name, params, args)              \
  static ret name##_portable params { return name##_body args; } \
  static const auto name##_variant = name##_portable;
#endif
