#include "simd.h"

#include <cstdlib>
#include <cstring>

namespace ncod::cpu {

namespace {

SimdLevel detect_supported() {
#ifdef NCOD_SIMD_VARIANTS
  __builtin_cpu_init();  // this may run in a static initialiser, before libgcc's own
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return SimdLevel::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2;
#endif
  return SimdLevel::Portable;
}

bool detect_bf16() {
#ifdef NCOD_SIMD_VARIANTS
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

SimdConfig read_config() {
  SimdConfig config{SimdLevel::Portable, detect_supported(), false, {}};
  config.level = config.supported;
  if (const char* cap = std::getenv("NCOD_SIMD"); cap != nullptr && *cap != '\0') {
    SimdLevel requested = config.supported;
    if (std::strcmp(cap, "portable") == 0) requested = SimdLevel::Portable;
    else if (std::strcmp(cap, "avx2") == 0) requested = SimdLevel::Avx2;
    else if (std::strcmp(cap, "avx512") == 0) requested = SimdLevel::Avx512;
    else config.error = std::string("NCOD_SIMD: expected one of portable, avx2, avx512 (or unset), got '") + cap + "'";
    if (requested < config.level) config.level = requested;  // a cap: asking for more than the CPU has is no error
  }
  config.bf16 = config.level == SimdLevel::Avx512 && detect_bf16();
  return config;
}

}  // namespace

const SimdConfig& simd_config() {
  static const SimdConfig config = read_config();
  return config;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Portable: return "portable";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
  }
  return "portable";
}

}  // namespace ncod::cpu
