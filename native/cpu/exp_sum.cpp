// exp(x) for x <= 0 without libm: x = (k/16)·ln 2 + r with |r| <= ln2/32, so exp(x) = 2^(k div 16) · 2^((k mod 16)/16)
// · e^r, with the middle factor from a 16-entry table and e^r from its degree-5 Taylor polynomial (relative error
// r^6/720 < 1.5e-13). A libm exp per logit costs ~4 ns; the AVX-512 body does 8 per instruction (the AVX2 body 4,
// with a gathered table entry), so one pass over the logits runs near memory speed.
#include "exp_sum.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "simd.h"
#include "x86_intrinsics.h"

namespace ncod::cpu {

namespace {

// 2^(j/16), correctly rounded.
alignas(64) constexpr double kTable[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
constexpr double kSixteenOverLn2 = 0x1.71547652b82fep+4;
constexpr double kLn2OverSixteen = 0x1.62e42fefa39efp-5;
// Adding 1.5·2^52 rounds to an integer and leaves it, two's complement, in the low mantissa bits.
constexpr double kShifter = 0x1.8p52;
// exp(−708) is still a normal float64, so the exponent arithmetic below never underflows.
constexpr double kMinArgument = -708.0;

double exp_nonpositive(double x) {
  x = std::max(x, kMinArgument);
  const double k = (x * kSixteenOverLn2 + kShifter) - kShifter;
  const double r = x - k * kLn2OverSixteen;
  const double p = 1 + r * (1 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
  const int64_t ki = static_cast<int64_t>(k);
  uint64_t t;
  std::memcpy(&t, &kTable[ki & 15], sizeof t);
  t += static_cast<uint64_t>(ki >> 4) << 52;  // × 2^(k div 16): add to the exponent field
  double scale;
  std::memcpy(&scale, &t, sizeof scale);
  return p * scale;
}

RowMax row_max_portable(const float* z, size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  float bad = 0;  // becomes NaN at the first ±inf or NaN (inf·0 and NaN·0 are NaN)
  for (size_t c = 0; c < n; ++c) {
    m = z[c] > m ? z[c] : m;
    bad += z[c] * 0.0f;
  }
  return {m, bad == 0};
}

double exp_sum_portable(const float* z, size_t n, double m, double scale) {
  double s = 0;
  for (size_t c = 0; c < n; ++c) s += exp_nonpositive((double(z[c]) - m) * scale);
  return s;
}

ExpMoments exp_moments_portable(const float* z, size_t n, double m, double scale) {
  double s = 0, w = 0;
  for (size_t c = 0; c < n; ++c) {
    const double u = std::max((double(z[c]) - m) * scale, kMinArgument);
    const double e = exp_nonpositive(u);
    s += e;
    w += e * u;
  }
  return {s, w};
}

#ifdef NCOD_X86_INTRINSICS

#define NCOD_AVX512 NCOD_TARGET_AVX512

NCOD_AVX512 RowMax row_max_avx512(const float* z, size_t n) {
  __m512 m0 = _mm512_set1_ps(-std::numeric_limits<float>::infinity()), m1 = m0;
  __mmask16 bad = 0;
  constexpr int kNotFinite = 0x01 | 0x08 | 0x10 | 0x80;  // fpclass: QNaN, +inf, −inf, SNaN
  size_t c = 0;
  for (; c + 32 <= n; c += 32) {  // two chains: the max latency, not its throughput, would bound one
    const __m512 a = _mm512_loadu_ps(z + c), b = _mm512_loadu_ps(z + c + 16);
    m0 = _mm512_max_ps(m0, a);
    m1 = _mm512_max_ps(m1, b);
    bad |= _mm512_fpclass_ps_mask(a, kNotFinite) | _mm512_fpclass_ps_mask(b, kNotFinite);
  }
  for (; c + 16 <= n; c += 16) {
    const __m512 a = _mm512_loadu_ps(z + c);
    m0 = _mm512_max_ps(m0, a);
    bad |= _mm512_fpclass_ps_mask(a, kNotFinite);
  }
  const RowMax tail = row_max_portable(z + c, n - c);
  return {std::max(_mm512_reduce_max_ps(_mm512_max_ps(m0, m1)), tail.value), bad == 0 && tail.finite};
}

// The vector form of exp_nonpositive, fused with the accumulation: acc + exp(x) for 8 arguments x <= 0.
struct Exp8 {
  __m512d table_lo, table_hi;  // kTable with j·2^48 subtracted from entry j's bits (see add)

  NCOD_AVX512 Exp8() {
    // Adding k·2^48 to an entry's bits then adds (k div 16)·2^52, the exponent step, and cancels j = k mod 16.
    const __m512i j_lo = _mm512_slli_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), 48);
    const __m512i j_hi = _mm512_slli_epi64(_mm512_set_epi64(15, 14, 13, 12, 11, 10, 9, 8), 48);
    table_lo = _mm512_castsi512_pd(_mm512_sub_epi64(_mm512_castpd_si512(_mm512_load_pd(kTable)), j_lo));
    table_hi = _mm512_castsi512_pd(_mm512_sub_epi64(_mm512_castpd_si512(_mm512_load_pd(kTable + 8)), j_hi));
  }

  struct Parts {
    __m512d p, scale;  // exp(x) = p·scale
  };

  NCOD_AVX512 __m512d add(__m512d acc, __m512d x) const {
    const Parts q = parts(_mm512_max_pd(x, _mm512_set1_pd(kMinArgument)));
    return _mm512_fmadd_pd(q.p, q.scale, acc);
  }

  // sum += exp(x), weighted += exp(x)·x, with x clamped as in add.
  NCOD_AVX512 void moments(__m512d& sum, __m512d& weighted, __m512d x) const {
    x = _mm512_max_pd(x, _mm512_set1_pd(kMinArgument));
    const Parts q = parts(x);
    const __m512d e = _mm512_mul_pd(q.p, q.scale);
    sum = _mm512_add_pd(sum, e);
    weighted = _mm512_fmadd_pd(e, x, weighted);
  }

  NCOD_AVX512 Parts parts(__m512d x) const {
    const __m512d shifter = _mm512_set1_pd(kShifter);
    const __m512d kd = _mm512_fmadd_pd(x, _mm512_set1_pd(kSixteenOverLn2), shifter);
    const __m512d r = _mm512_fnmadd_pd(_mm512_sub_pd(kd, shifter), _mm512_set1_pd(kLn2OverSixteen), x);
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 120), r, _mm512_set1_pd(1.0 / 24));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 6));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(0.5));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
    const __m512i k = _mm512_castpd_si512(kd);  // k in the low bits; the permute reads its low 4
    const __m512i t = _mm512_permutex2var_epi64(_mm512_castpd_si512(table_lo), k, _mm512_castpd_si512(table_hi));
    const __m512d scale = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(k, 48)));
    return {p, scale};
  }
};

template <bool kScaled>
NCOD_AVX512 __m512d shifted(const float* z, __m512d m, __m512d scale) {
  const __m512d x = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(z)), m);
  return kScaled ? _mm512_mul_pd(x, scale) : x;
}

template <bool kScaled>
NCOD_AVX512 double exp_sum_avx512(const float* z, size_t n, double m, double scale) {
  const Exp8 exp8;
  const __m512d vm = _mm512_set1_pd(m), vscale = _mm512_set1_pd(scale);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  size_t c = 0;
  for (; c + 16 <= n; c += 16) {
    acc0 = exp8.add(acc0, shifted<kScaled>(z + c, vm, vscale));
    acc1 = exp8.add(acc1, shifted<kScaled>(z + c + 8, vm, vscale));
  }
  if (c + 8 <= n) {
    acc0 = exp8.add(acc0, shifted<kScaled>(z + c, vm, vscale));
    c += 8;
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1)) + exp_sum_portable(z + c, n - c, m, scale);
}

NCOD_AVX512 double exp_sum_avx512_any(const float* z, size_t n, double m, double scale) {
  return scale == 1.0 ? exp_sum_avx512<false>(z, n, m, scale) : exp_sum_avx512<true>(z, n, m, scale);
}

NCOD_AVX512 ExpMoments exp_moments_avx512(const float* z, size_t n, double m, double scale) {
  const Exp8 exp8;
  const __m512d vm = _mm512_set1_pd(m), vscale = _mm512_set1_pd(scale);
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, w0 = s0, w1 = s0;
  size_t c = 0;
  for (; c + 16 <= n; c += 16) {
    exp8.moments(s0, w0, shifted<true>(z + c, vm, vscale));
    exp8.moments(s1, w1, shifted<true>(z + c + 8, vm, vscale));
  }
  if (c + 8 <= n) {
    exp8.moments(s0, w0, shifted<true>(z + c, vm, vscale));
    c += 8;
  }
  const ExpMoments tail = exp_moments_portable(z + c, n - c, m, scale);
  return {_mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) + tail.sum, _mm512_reduce_add_pd(_mm512_add_pd(w0, w1)) + tail.weighted};
}

#define NCOD_AVX2 NCOD_TARGET_AVX2

NCOD_AVX2 RowMax row_max_avx2(const float* z, size_t n) {
  __m256 m0 = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), m1 = m0;
  __m256 bad = _mm256_setzero_ps();  // OR of the bits of x − x: +0 for every finite x, NaN for ±inf and NaN
  size_t c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m256 a = _mm256_loadu_ps(z + c), b = _mm256_loadu_ps(z + c + 8);
    m0 = _mm256_max_ps(m0, a);
    m1 = _mm256_max_ps(m1, b);
    bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_sub_ps(a, a), _mm256_sub_ps(b, b)));
  }
  for (; c + 8 <= n; c += 8) {
    const __m256 a = _mm256_loadu_ps(z + c);
    m0 = _mm256_max_ps(m0, a);
    bad = _mm256_or_ps(bad, _mm256_sub_ps(a, a));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(m0, m1));
  const RowMax tail = row_max_portable(z + c, n - c);
  float m = tail.value;
  for (float v : lanes) m = std::max(m, v);
  const __m256i bits = _mm256_castps_si256(bad);
  return {m, _mm256_testz_si256(bits, bits) != 0 && tail.finite};
}

// The AVX2 form of exp_nonpositive: as Exp8, with the table entry gathered (AVX2 has no two-register permute).
struct Exp4 {
  alignas(32) int64_t table[16];  // kTable's bits with j·2^48 subtracted from entry j (see Exp8)

  Exp4() {
    for (int64_t j = 0; j < 16; ++j) {
      std::memcpy(&table[j], &kTable[j], sizeof table[j]);
      table[j] -= j << 48;
    }
  }

  struct Parts {
    __m256d p, scale;  // exp(x) = p·scale
  };

  NCOD_AVX2 __m256d add(__m256d acc, __m256d x) const {
    const Parts q = parts(_mm256_max_pd(x, _mm256_set1_pd(kMinArgument)));
    return _mm256_fmadd_pd(q.p, q.scale, acc);
  }

  // sum += exp(x), weighted += exp(x)·x, with x clamped as in add.
  NCOD_AVX2 void moments(__m256d& sum, __m256d& weighted, __m256d x) const {
    x = _mm256_max_pd(x, _mm256_set1_pd(kMinArgument));
    const Parts q = parts(x);
    const __m256d e = _mm256_mul_pd(q.p, q.scale);
    sum = _mm256_add_pd(sum, e);
    weighted = _mm256_fmadd_pd(e, x, weighted);
  }

  NCOD_AVX2 Parts parts(__m256d x) const {
    const __m256d shifter = _mm256_set1_pd(kShifter);
    const __m256d kd = _mm256_fmadd_pd(x, _mm256_set1_pd(kSixteenOverLn2), shifter);
    const __m256d r = _mm256_fnmadd_pd(_mm256_sub_pd(kd, shifter), _mm256_set1_pd(kLn2OverSixteen), x);
    __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 120), r, _mm256_set1_pd(1.0 / 24));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    const __m256i k = _mm256_castpd_si256(kd);  // k in the low bits
    const __m256i j = _mm256_and_si256(k, _mm256_set1_epi64x(15));
    const __m256i t = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(table), j, 8);
    const __m256d scale = _mm256_castsi256_pd(_mm256_add_epi64(t, _mm256_slli_epi64(k, 48)));
    return {p, scale};
  }
};

template <bool kScaled>
NCOD_AVX2 __m256d shifted4(__m128 z, __m256d m, __m256d scale) {
  const __m256d x = _mm256_sub_pd(_mm256_cvtps_pd(z), m);
  return kScaled ? _mm256_mul_pd(x, scale) : x;
}

template <bool kScaled>
NCOD_AVX2 double exp_sum_avx2(const float* z, size_t n, double m, double scale) {
  static const Exp4 exp4;
  const __m256d vm = _mm256_set1_pd(m), vscale = _mm256_set1_pd(scale);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256 f = _mm256_loadu_ps(z + c);
    acc0 = exp4.add(acc0, shifted4<kScaled>(_mm256_castps256_ps128(f), vm, vscale));
    acc1 = exp4.add(acc1, shifted4<kScaled>(_mm256_extractf128_ps(f, 1), vm, vscale));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + exp_sum_portable(z + c, n - c, m, scale);
}

NCOD_AVX2 double exp_sum_avx2_any(const float* z, size_t n, double m, double scale) {
  return scale == 1.0 ? exp_sum_avx2<false>(z, n, m, scale) : exp_sum_avx2<true>(z, n, m, scale);
}

NCOD_AVX2 double horizontal_sum(__m256d v) {
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, v);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

NCOD_AVX2 ExpMoments exp_moments_avx2(const float* z, size_t n, double m, double scale) {
  static const Exp4 exp4;
  const __m256d vm = _mm256_set1_pd(m), vscale = _mm256_set1_pd(scale);
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, w0 = s0, w1 = s0;
  size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256 f = _mm256_loadu_ps(z + c);
    exp4.moments(s0, w0, shifted4<true>(_mm256_castps256_ps128(f), vm, vscale));
    exp4.moments(s1, w1, shifted4<true>(_mm256_extractf128_ps(f, 1), vm, vscale));
  }
  const ExpMoments tail = exp_moments_portable(z + c, n - c, m, scale);
  return {horizontal_sum(_mm256_add_pd(s0, s1)) + tail.sum, horizontal_sum(_mm256_add_pd(w0, w1)) + tail.weighted};
}

#endif

struct Kernels {
  RowMax (*row_max)(const float*, size_t);
  double (*exp_sum)(const float*, size_t, double, double);
  ExpMoments (*exp_moments)(const float*, size_t, double, double);
};

Kernels pick_kernels() {
#ifdef NCOD_X86_INTRINSICS
  return pick_by_level<Kernels>({row_max_portable, exp_sum_portable, exp_moments_portable},
                                {row_max_avx2, exp_sum_avx2_any, exp_moments_avx2},
                                {row_max_avx512, exp_sum_avx512_any, exp_moments_avx512});
#else
  return {row_max_portable, exp_sum_portable, exp_moments_portable};
#endif
}

// Chosen once, when the addon loads.
const Kernels kKernels = pick_kernels();

}  // namespace

RowMax row_max(const float* z, size_t n) { return kKernels.row_max(z, n); }

double exp_sum(const float* z, size_t n, double m, double scale) { return kKernels.exp_sum(z, n, m, scale); }

ExpMoments exp_moments(const float* z, size_t n, double m, double scale) {
  return kKernels.exp_moments(z, n, m, scale);
}

}  // namespace ncod::cpu
