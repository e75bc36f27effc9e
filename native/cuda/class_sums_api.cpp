// Class sums and the gram product: the plugin glue of accumulate_class_sums and gram (kernels in kernels.cu).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "entry_points.h"
#include "kernels.cuh"
#include "plugin_state.h"
#include "transfers.h"

namespace ncod::cuda {
namespace {

void class_sums_locked(State& s, const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                       double* counts, double* sums) {
  if (rows == 0) return;  // nothing to add
  if (num_classes == 0) fail("accumulate_class_sums: num_classes must be positive when rows > 0");
  if (y == nullptr || counts == nullptr) fail("accumulate_class_sums: null y or counts pointer");
  if (d > 0 && (x == nullptr || sums == nullptr)) fail("accumulate_class_sums: null x or sums pointer");
  (void)checked_mul(rows, d, "rows × d");
  const size_t cd = checked_mul(num_classes, d, "num_classes × d");
  // host_stage holds counts and sums back to back.
  (void)checked_mul(checked_add(num_classes, cd, "num_classes × (d + 1)"), sizeof(double), "num_classes × (d + 1)");

  init_locked(s);
  const cudaStream_t st = s.stream;

  const size_t chunk_rows = std::min(rows, std::max<size_t>(1, kClassSumsChunkFloats / std::max<size_t>(d, 1)));
  s.x.reserve(chunk_rows * d * sizeof(float), "x chunk");
  s.y.reserve(chunk_rows * sizeof(int32_t), "y chunk");
  s.counts.reserve(num_classes * sizeof(double), "class counts");
  s.sums.reserve(cd * sizeof(double), "class sums");

  // The kernels accumulate with atomics across chunks, so the device totals start at zero (no NaN poison here:
  // every element is read-modify-written, never plainly overwritten).
  check(cudaMemsetAsync(s.counts.as<void>(), 0, num_classes * sizeof(double), st), "cudaMemsetAsync(class counts)");
  if (cd > 0) check(cudaMemsetAsync(s.sums.as<void>(), 0, cd * sizeof(double), st), "cudaMemsetAsync(class sums)");

  for (size_t start = 0; start < rows; start += chunk_rows) {
    const size_t n = std::min(chunk_rows, rows - start);
    if (d > 0) copy_to_device(s.x.as<void>(), x + start * d, n * d * sizeof(float), st, "copying x to the device");
    copy_to_device(s.y.as<void>(), y + start, n * sizeof(int32_t), st, "copying y to the device");
    check(launch_class_sums(s.x.as<const float>(), s.y.as<const int32_t>(), n, d, num_classes,
                                        s.counts.as<double>(), d > 0 ? s.sums.as<double>() : nullptr, st),
          "launching the class-sums kernels");
  }

  s.host_stage.resize(num_classes + cd);
  copy_to_host(s.host_stage.data(), s.counts.as<const void>(), num_classes * sizeof(double), st,
               "copying class counts to the host");
  copy_to_host(s.host_stage.data() + num_classes, s.sums.as<const void>(), cd * sizeof(double), st,
               "copying class sums to the host");
  check(cudaStreamSynchronize(st), "running the class-sums kernels");  // kernel faults surface here

  const double* h = s.host_stage.data();
  for (size_t c = 0; c < num_classes; ++c) counts[c] += h[c];
  for (size_t k = 0; k < cd; ++k) sums[k] += h[num_classes + k];
}

void gram_locked(State& s, const double* a, size_t m, const double* b, size_t n, size_t k, double* out) {
  if (m == 0 || n == 0) return;  // empty output
  if (out == nullptr) fail("gram: null out pointer");
  const size_t mn = checked_mul(m, n, "m × n");
  (void)checked_mul(mn, sizeof(double), "m × n");
  if (k == 0) {  // empty inner dimension: every dot product is 0
    std::fill(out, out + mn, 0.0);
    return;
  }
  if (a == nullptr || b == nullptr) fail("gram: null a or b pointer");
  if (m > static_cast<size_t>(INT_MAX) || n > static_cast<size_t>(INT_MAX) || k > static_cast<size_t>(INT_MAX))
    fail("gram: a dimension exceeds the cuBLAS int limit");
  const size_t mk = checked_mul(m, k, "m × k");
  const size_t nk = checked_mul(n, k, "n × k");
  (void)checked_mul(mk, sizeof(double), "m × k");
  (void)checked_mul(nk, sizeof(double), "n × k");

  init_locked(s);
  const cudaStream_t st = s.stream;
  const bool same = a == b && m == n;  // A Aᵀ (common): upload once

  s.gram_a.reserve(mk * sizeof(double), "gram A");
  if (!same) s.gram_b.reserve(nk * sizeof(double), "gram B");
  s.gram_out.reserve(mn * sizeof(double), "gram output");
  copy_to_device(s.gram_a.as<void>(), a, mk * sizeof(double), st, "copying gram A to the device");
  if (!same) copy_to_device(s.gram_b.as<void>(), b, nk * sizeof(double), st, "copying gram B to the device");
  const double* dev_a = s.gram_a.as<const double>();
  const double* dev_b = same ? dev_a : s.gram_b.as<const double>();
  poison(s.gram_out.as<double>(), mn, st, "poisoning the gram output");

  // Row-major out (m×n) = A Bᵀ is column-major outᵀ (n×m, ld n) = B Aᵀ. Row-major B (n×k) is column-major k×n
  // (ld k), so B = (that)ᵀ: op T; row-major A (m×k) is column-major k×m = Aᵀ: op N.
  s.blas.dgemm(Blas::Op::T, Blas::Op::N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), dev_b,
               static_cast<int>(k), dev_a, static_cast<int>(k), s.gram_out.as<double>(), static_cast<int>(n));
  copy_to_host(out, s.gram_out.as<const void>(), mn * sizeof(double), st, "copying the gram matrix to the host");
  check(cudaStreamSynchronize(st), "running the gram product");
}

}  // namespace
}  // namespace ncod::cuda

using ncod::cuda::guarded;
using ncod::cuda::State;

extern "C" {

int ncod_cuda_accumulate_class_sums(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                                    double* counts, double* sums, char* err, size_t errlen) {
  return guarded(err, errlen,
                 [&](State& s) { ncod::cuda::class_sums_locked(s, x, y, rows, d, num_classes, counts, sums); });
}

int ncod_cuda_gram(const double* a, size_t m, const double* b, size_t n, size_t k, double* out, char* err,
                   size_t errlen) {
  return guarded(err, errlen, [&](State& s) { ncod::cuda::gram_locked(s, a, m, b, n, k, out); });
}

}  // extern "C"
