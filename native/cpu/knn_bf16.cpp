// bfloat16 similarities for the KNN filter. The error bound, for a query q and a bank row x with roundings q̃, x̃:
//   |s̃ − q·x| <= ‖q̃‖·‖x̃ − x‖ + ‖q̃ − q‖·‖x‖ + (dim + 2)·2^-23·‖q̃‖·‖x̃‖
// (Cauchy–Schwarz on q̃·x̃ − q·x = q̃·(x̃ − x) + (q̃ − q)·x, plus at most one float32 ulp per accumulated product,
// whatever rounding the instruction uses; products it flushes to zero lose < 2^-126 each, inside the margin).
#include "knn_bf16.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "parallel.h"
#include "simd.h"
#include "x86_intrinsics.h"

#if defined(NCOD_X86_INTRINSICS) && (defined(__clang__) || __GNUC__ >= 10)  // AVX512-BF16 intrinsics
#define NCOD_KNN_BF16 1
#endif

namespace ncod::cpu {

namespace {

constexpr size_t kPanelRows = 32;  // two 16-lane vectors per element pair
constexpr size_t kQueryRows = kBf16QueryRows;

// Round to nearest even, as the AVX512-BF16 instructions do; they read subnormal inputs as zero, so these become
// zero here too (inputs are finite).
uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Row x packed as element pairs into out[p·stride] for p < pairs (an odd dim pads with a zero); returns
// {‖x − x̃‖², ‖x‖², ‖x̃‖²}.
struct RoundingNorms {
  double residual_sq = 0, norm_sq = 0, rounded_sq = 0;
};
RoundingNorms pack_row(const float* x, size_t dim, size_t pairs, uint32_t* out, size_t stride) {
  RoundingNorms n;
  for (size_t p = 0; p < pairs; ++p) {
    uint32_t pair = 0;
    for (size_t h = 0; h < 2 && 2 * p + h < dim; ++h) {
      const float v = x[2 * p + h];
      const uint16_t b = to_bf16(v);
      const double r = from_bf16(b);
      n.residual_sq += (r - v) * (r - v);
      n.norm_sq += double(v) * v;
      n.rounded_sq += r * r;
      pair |= uint32_t(b) << (16 * h);
    }
    out[p * stride] = pair;
  }
  return n;
}

#ifdef NCOD_KNN_BF16
#define NCOD_BF16 __attribute__((target("avx512f,avx512bf16")))

// acc[i][v] (16 bank rows each) = the approximate similarities of kQueryRows packed queries with one bank panel.
NCOD_BF16 inline void panel_products(const uint32_t* q, const uint32_t* panel, size_t pairs,
                                     __m512 (&acc)[kQueryRows][2]) {
  for (size_t i = 0; i < kQueryRows; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + p * kPanelRows);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + p * kPanelRows + 16);
#pragma GCC unroll 12
    for (size_t i = 0; i < kQueryRows; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(q[p * kQueryRows + i]));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], a, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], a, b1);
    }
  }
}

// Every panel against every group of kQueryRows queries; only values at or above a filter's threshold leave the
// registers (after the first k rows, a small fraction).
NCOD_BF16 bool offer_panels(const Bf16Bank& bank, const uint32_t* q, size_t n, size_t max_candidates,
                            KthFilter* filters, const RunContext& context) {
  const size_t groups = (n + kQueryRows - 1) / kQueryRows;
  for (size_t b = 0; b < bank.panels; ++b) {
    if (b % 16 == 15) {
      context.throw_if_cancelled();  // a block of queries against a large bank takes seconds
      size_t total = 0;
      for (size_t i = 0; i < n; ++i) total += filters[i].candidates();
      if (total > max_candidates) return false;
    }
    const uint32_t* panel = bank.packed.data() + b * bank.pairs * kPanelRows;
    const size_t first = b * kPanelRows;
    const size_t valid = std::min(kPanelRows, bank.rows - first);
    const uint32_t lanes = valid == kPanelRows ? ~0u : (1u << valid) - 1;
    for (size_t g = 0; g < groups; ++g) {
      __m512 acc[kQueryRows][2];
      panel_products(q + g * bank.pairs * kQueryRows, panel, bank.pairs, acc);
      const size_t rows_here = std::min(kQueryRows, n - g * kQueryRows);
      for (size_t i = 0; i < rows_here; ++i) {
        KthFilter& f = filters[g * kQueryRows + i];
        const __m512 t = _mm512_set1_ps(f.threshold());
        uint32_t hits = (uint32_t(_mm512_cmp_ps_mask(acc[i][0], t, _CMP_GE_OQ)) |
                         uint32_t(_mm512_cmp_ps_mask(acc[i][1], t, _CMP_GE_OQ)) << 16) & lanes;
        if (hits == 0) continue;
        alignas(64) float v[kPanelRows];
        _mm512_store_ps(v, acc[i][0]);
        _mm512_store_ps(v + 16, acc[i][1]);
        for (; hits != 0; hits &= hits - 1) {
          const unsigned lane = static_cast<unsigned>(__builtin_ctz(hits));
          f.offer(v[lane], first + lane);
        }
      }
    }
  }
  return true;
}

const bool kBf16 = simd_config().bf16;  // level avx512 in use and the CPU has BF16
#else
const bool kBf16 = false;
#endif

}  // namespace

bool bf16_available() { return kBf16; }

Bf16Bank::Bf16Bank(const float* bank, size_t rows_, size_t dim_)
    : rows(rows_), dim(dim_), pairs((dim_ + 1) / 2), panels((rows_ + kPanelRows - 1) / kPanelRows) {
  packed.assign(panels * pairs * kPanelRows, 0u);
  double residual_sq = 0, norm_sq = 0;
  const int threads = threads_for(rows * dim, panels);
#pragma omp parallel for num_threads(threads) schedule(static) reduction(max : residual_sq, norm_sq)
  for (size_t b = 0; b < panels; ++b) {
    for (size_t r = 0; r < kPanelRows && b * kPanelRows + r < rows; ++r) {
      const RoundingNorms n = pack_row(bank + (b * kPanelRows + r) * dim, dim, pairs,
                                       packed.data() + b * pairs * kPanelRows + r, kPanelRows);
      residual_sq = std::max(residual_sq, n.residual_sq);
      norm_sq = std::max({norm_sq, n.norm_sq, n.rounded_sq});
    }
  }
  max_residual = std::sqrt(residual_sq);
  max_norm = std::sqrt(norm_sq);
}

bool bf16_offer_all(const Bf16Bank& bank, const float* q, size_t n, size_t k, size_t max_candidates,
                    KthFilter* filters, std::vector<uint32_t>& scratch, const RunContext& context) {
  const size_t groups = (n + kQueryRows - 1) / kQueryRows;
  scratch.assign(groups * bank.pairs * kQueryRows, 0u);
  for (size_t i = 0; i < n; ++i) {
    uint32_t* out = scratch.data() + (i / kQueryRows) * bank.pairs * kQueryRows + i % kQueryRows;
    const RoundingNorms r = pack_row(q + i * bank.dim, bank.dim, bank.pairs, out, kQueryRows);
    const double rounded = std::sqrt(r.rounded_sq);
    const double bound = rounded * bank.max_residual + std::sqrt(r.residual_sq) * bank.max_norm +
                         double(bank.dim + 2) * 0x1p-23 * rounded * bank.max_norm;
    // The margin covers the float rounding of the bound, the threshold and the float64 recomputation.
    filters[i].reset(k, static_cast<float>(bound * (1 + 0x1p-10) + 1e-6));
  }
#ifdef NCOD_KNN_BF16
  return offer_panels(bank, scratch.data(), n, max_candidates, filters, context);
#else
  (void)context;
  return false;
#endif
}

}  // namespace ncod::cpu
