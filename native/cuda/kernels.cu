// ncod CUDA kernels and their host launchers. CUDA runtime only (no cuBLAS here; see blas.h).
//
// Conventions: x is rows×d float32 row-major, y is rows int32; accumulators and centred rows are float64, the
// projection inputs/outputs (z32, P) float32, argmax outputs int32; all row-major. Index math is size_t
// everywhere a product of sizes appears (rows×d routinely exceeds 2^31). Grid dimensions are clamped and every
// kernel uses grid-stride loops, so any clamping only changes the amount of work per thread, never the result.
#include "kernels.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>

namespace ncod::cuda {
namespace {

// class_sums: a block covers kTile consecutive columns (one warp-width, so each warp reads a contiguous
// 128-byte row segment) and kTileRows rows at a time; the block is kTile×kTileRows = 256 threads.
constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr int kThreads = 256;  // 1-D blocks (counts, fill) and the 2-D center_rows block
static_assert(kTile * kTileRows == kThreads, "class_sums block must be kThreads threads");

// Stay within the 48 KiB of dynamic shared memory every architecture grants without a cudaFuncSetAttribute opt-in.
constexpr size_t kSharedBudget = 48 * 1024;
// Enough resident 256-thread blocks to fill an SM (2048 threads); grid-stride loops do the rest.
constexpr size_t kBlocksPerSm = 8;
// A class_sums block should see at least this many rows, so each of its warps loops several times.
constexpr size_t kMinRowsPerBlock = 64;
constexpr size_t kMaxGridY = 65535;

// Symmetrize uses a kSymTile×kSymTile shared tile, processed by kSymTile×kSymRows threads.
constexpr int kSymTile = 32;
constexpr int kSymRows = 8;

inline size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0 ? 1 : 0); }

cudaError_t device_sm_count(size_t* out) {
  int dev = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e != cudaSuccess) return e;
  int sms = 0;
  e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  if (e != cudaSuccess) return e;
  *out = sms > 0 ? static_cast<size_t>(sms) : 1;
  return cudaSuccess;
}

// One dynamic shared-memory symbol for all kernels (same name and type everywhere), reinterpreted per kernel.
extern __shared__ __align__(16) unsigned char g_dyn_smem[];

// ---------------------------------------------------------------------------------------------------------------
// class counts

// Per-block histogram in shared memory (integer atomics: exact and fast), flushed once per block.
// Requires num_classes * 8 <= kSharedBudget.
__global__ void __launch_bounds__(kThreads)
    class_counts_shared_kernel(const int32_t* __restrict__ y, size_t rows, int num_classes,
                               double* __restrict__ counts) {
  unsigned long long* hist = reinterpret_cast<unsigned long long*>(g_dyn_smem);
  for (int c = threadIdx.x; c < num_classes; c += blockDim.x) hist[c] = 0ULL;
  __syncthreads();

  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows; i += stride) {
    const int32_t c = y[i];
    if (c >= 0 && c < num_classes) atomicAdd(&hist[c], 1ULL);
  }
  __syncthreads();

  for (int c = threadIdx.x; c < num_classes; c += blockDim.x) {
    const unsigned long long n = hist[c];
    // Counts per block are far below 2^53, so the conversion is exact.
    if (n != 0ULL) atomicAdd(&counts[c], static_cast<double>(n));
  }
}

// Too many classes for a shared histogram: add straight to global memory (contention is spread over many classes).
__global__ void __launch_bounds__(kThreads)
    class_counts_global_kernel(const int32_t* __restrict__ y, size_t rows, size_t num_classes,
                               double* __restrict__ counts) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows; i += stride) {
    const int32_t c = y[i];
    if (c >= 0 && static_cast<size_t>(c) < num_classes) atomicAdd(&counts[c], 1.0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// class sums

// blockDim = (kTile, kTileRows). blockIdx.x selects the column tile, blockIdx.y/gridDim.y stride over rows.
// Lane threadIdx.x owns column col0 + threadIdx.x; the kTileRows warps take different rows. Accumulates into a
// num_classes × kTile float64 shared tile (native shared fp64 atomicAdd on sm_60+), then flushes it with one global
// atomicAdd per non-zero entry. Requires num_classes * kTile * 8 <= kSharedBudget.
__global__ void __launch_bounds__(kThreads)
    class_sums_shared_kernel(const float* __restrict__ x, const int32_t* __restrict__ y, size_t rows, size_t d,
                             int num_classes, double* __restrict__ sums) {
  double* tile = reinterpret_cast<double*>(g_dyn_smem);
  const int tid = threadIdx.y * kTile + threadIdx.x;
  const int tile_elems = num_classes * kTile;
  for (int k = tid; k < tile_elems; k += kThreads) tile[k] = 0.0;
  __syncthreads();

  const size_t col0 = static_cast<size_t>(blockIdx.x) * kTile;
  const size_t col = col0 + threadIdx.x;
  if (col < d) {  // lanes past the last column (d not a multiple of kTile) only help with init and flush
    const size_t stride = static_cast<size_t>(gridDim.y) * kTileRows;
    for (size_t i = static_cast<size_t>(blockIdx.y) * kTileRows + threadIdx.y; i < rows; i += stride) {
      const int32_t c = y[i];  // same address for the whole warp: one broadcast load
      if (c < 0 || c >= num_classes) continue;
      atomicAdd(&tile[c * kTile + threadIdx.x], static_cast<double>(x[i * d + col]));
    }
  }
  __syncthreads();

  for (int k = tid; k < tile_elems; k += kThreads) {
    const int c = k / kTile;
    const size_t gcol = col0 + static_cast<size_t>(k % kTile);
    const double v = tile[k];
    // Skipping exact zeros (classes absent from this block's rows) saves global atomics; NaN != 0 still propagates.
    if (gcol < d && v != 0.0) atomicAdd(&sums[static_cast<size_t>(c) * d + gcol], v);
  }
}

// Fallback when the shared tile would not fit: same traversal, atomics straight to global memory.
__global__ void __launch_bounds__(kThreads)
    class_sums_global_kernel(const float* __restrict__ x, const int32_t* __restrict__ y, size_t rows, size_t d,
                             size_t num_classes, double* __restrict__ sums) {
  const size_t col = static_cast<size_t>(blockIdx.x) * kTile + threadIdx.x;
  if (col >= d) return;  // no __syncthreads in this kernel, so early exit is safe
  const size_t stride = static_cast<size_t>(gridDim.y) * kTileRows;
  for (size_t i = static_cast<size_t>(blockIdx.y) * kTileRows + threadIdx.y; i < rows; i += stride) {
    const int32_t c = y[i];
    if (c < 0 || static_cast<size_t>(c) >= num_classes) continue;
    atomicAdd(&sums[static_cast<size_t>(c) * d + col], static_cast<double>(x[i * d + col]));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// center rows: 2-D grid-stride loop (rows over y, columns over x), so there is no per-element 64-bit division.
// z and z32 are each optional (nullptr: not written; the branch is uniform across the grid).

__global__ void __launch_bounds__(kThreads)
    center_rows_kernel(const float* __restrict__ x, const int32_t* __restrict__ y, const double* __restrict__ means,
                       size_t rows, size_t d, size_t num_classes, double* __restrict__ z, float* __restrict__ z32) {
  const size_t row_stride = static_cast<size_t>(gridDim.y) * blockDim.y;
  const size_t col_stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  const size_t col_start = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (size_t i = static_cast<size_t>(blockIdx.y) * blockDim.y + threadIdx.y; i < rows; i += row_stride) {
    const int32_t c = y[i];
    const bool ok = c >= 0 && static_cast<size_t>(c) < num_classes;  // else the row is written as zeros
    const size_t base = i * d;
    const float* xrow = x + base;
    const double* mrow = means + (ok ? static_cast<size_t>(c) * d : 0);
    for (size_t j = col_start; j < d; j += col_stride) {
      const double v = ok ? static_cast<double>(xrow[j]) - mrow[j] : 0.0;
      if (z != nullptr) z[base + j] = v;
      if (z32 != nullptr) z32[base + j] = static_cast<float>(v);  // rounded after the float64 centring
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// per-class squared norms: one warp per row (warp-uniform loop, so full-mask shuffles are safe), the row's sum
// reduced across the warp, then added per class into a shared (kShared) or global accumulator.

template <bool kShared>
__global__ void __launch_bounds__(kThreads)
    class_sq_norms_kernel(const double* __restrict__ z, const int32_t* __restrict__ y, size_t rows, size_t d,
                          size_t num_classes, double* __restrict__ norms) {
  double* acc = kShared ? reinterpret_cast<double*>(g_dyn_smem) : norms;
  if constexpr (kShared) {
    for (size_t c = threadIdx.x; c < num_classes; c += blockDim.x) acc[c] = 0.0;
    __syncthreads();
  }
  const unsigned lane = threadIdx.x & 31u;
  const size_t warps_per_block = blockDim.x / 32;
  const size_t warp_stride = static_cast<size_t>(gridDim.x) * warps_per_block;
  for (size_t i = static_cast<size_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32; i < rows; i += warp_stride) {
    const double* zr = z + i * d;
    double s = 0.0;
    for (size_t j = lane; j < d; j += 32) s = fma(zr[j], zr[j], s);
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) {
      const int32_t c = y[i];
      if (c >= 0 && static_cast<size_t>(c) < num_classes) atomicAdd(&acc[c], s);
    }
  }
  if constexpr (kShared) {
    __syncthreads();
    for (size_t c = threadIdx.x; c < num_classes; c += blockDim.x) {
      const double v = acc[c];
      if (v != 0.0) atomicAdd(&norms[c], v);  // NaN != 0 still propagates
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// column sums of squares of a float32 row-major matrix: blockDim = (kTile, kTileRows); a block owns kTile columns
// (coalesced reads) and strides over rows; per-thread float64 partials are combined in shared memory, then one
// global atomicAdd per column per block.

__global__ void __launch_bounds__(kThreads)
    column_sq_sums_kernel(const float* __restrict__ p, size_t rows, size_t ld, size_t cols,
                          double* __restrict__ sums) {
  __shared__ double part[kTileRows][kTile];
  const size_t col = static_cast<size_t>(blockIdx.x) * kTile + threadIdx.x;
  double acc = 0.0;
  if (col < cols) {
    const size_t stride = static_cast<size_t>(gridDim.y) * kTileRows;
    for (size_t i = static_cast<size_t>(blockIdx.y) * kTileRows + threadIdx.y; i < rows; i += stride) {
      const double v = static_cast<double>(p[i * ld + col]);
      acc = fma(v, v, acc);
    }
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    double s = 0.0;
    for (int r = 0; r < kTileRows; ++r) s += part[r][threadIdx.x];
    atomicAdd(&sums[col], s);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// argmax over a block of projection columns: one warp per row; lanes scan classes lane, lane+32, ... keeping their
// first strict maximum, then a shuffle reduction keeps the larger score and, on equal scores, the smaller class.

__global__ void __launch_bounds__(kThreads)
    argmax_rows_kernel(const float* __restrict__ p, size_t rows, size_t ld, size_t offset, size_t classes,
                       double scale, const double* __restrict__ table, const int32_t* __restrict__ y,
                       int32_t* __restrict__ out) {
  constexpr unsigned long long kNone = ~0ULL;
  const double neg_inf = __longlong_as_double(static_cast<long long>(0xfff0000000000000ULL));
  const unsigned lane = threadIdx.x & 31u;
  const size_t warps_per_block = blockDim.x / 32;
  const size_t warp_stride = static_cast<size_t>(gridDim.x) * warps_per_block;
  for (size_t i = static_cast<size_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32; i < rows; i += warp_stride) {
    const int32_t label = y[i];
    const bool ok = label >= 0 && static_cast<size_t>(label) < classes;  // uniform across the warp
    double best = neg_inf;
    unsigned long long best_c = kNone;
    if (ok) {
      const float* pr = p + i * ld + offset;
      const double* tr = table + static_cast<size_t>(label) * classes;
      for (size_t c = lane; c < classes; c += 32) {
        // _rn intrinsics: no FMA contraction, so scores round like the CPU backend's scale*p + table.
        const double score = __dadd_rn(__dmul_rn(scale, static_cast<double>(pr[c])), tr[c]);
        if (score > best) {  // strict: the first maximum in this lane's ascending scan; NaN never wins
          best = score;
          best_c = c;
        }
      }
    }
    for (int off = 16; off > 0; off >>= 1) {
      const double other = __shfl_down_sync(0xffffffffu, best, off);
      const unsigned long long other_c = __shfl_down_sync(0xffffffffu, best_c, off);
      if (other > best || (other == best && other_c < best_c)) {
        best = other;
        best_c = other_c;
      }
    }
    if (lane == 0) out[i] = !ok ? -1 : (best_c == kNone ? 0 : static_cast<int32_t>(best_c));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// symmetrize: column-major A(r, c) = a[r + c*n]. Block (bx, by) owns the destination tile with rows
// i in [by*32, by*32+32) and columns j in [bx*32, bx*32+32) and writes its strict-lower entries (i > j) from the
// mirrored source tile, which is read coalesced and transposed through shared memory.

__global__ void __launch_bounds__(kSymTile * kSymRows) symmetrize_upper_kernel(double* __restrict__ a, size_t n) {
  // +1 column of padding keeps the transposed (column) reads off a single bank.
  __shared__ double t[kSymTile][kSymTile + 1];
  if (blockIdx.y < blockIdx.x) return;  // tile wholly above the diagonal: nothing to write (uniform per block)

  const size_t i0 = static_cast<size_t>(blockIdx.y) * kSymTile;  // destination rows
  const size_t j0 = static_cast<size_t>(blockIdx.x) * kSymTile;  // destination columns

  // t[k][l] = A(j0 + l, i0 + k) = a[(j0 + l) + (i0 + k)*n]; consecutive threadIdx.x read consecutive addresses.
  for (int k = threadIdx.y; k < kSymTile; k += kSymRows) {
    const size_t r = j0 + threadIdx.x;
    const size_t c = i0 + static_cast<size_t>(k);
    if (r < n && c < n) t[k][threadIdx.x] = a[r + c * n];
  }
  __syncthreads();

  // A(i, j) with i = i0 + threadIdx.x (consecutive addresses), j = j0 + k, for i > j: the mirrored value
  // A(j, i) = t[threadIdx.x][k] lies strictly above the diagonal, so it is never written by any block. On diagonal
  // tiles (i0 == j0) the block reads and writes the same tile, but the reads all finish before the barrier above.
  for (int k = threadIdx.y; k < kSymTile; k += kSymRows) {
    const size_t i = i0 + threadIdx.x;
    const size_t j = j0 + static_cast<size_t>(k);
    if (i < n && j < n && i > j) a[i + j * n] = t[threadIdx.x][k];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fill

__global__ void __launch_bounds__(kThreads) fill_f64_kernel(double* __restrict__ p, size_t n, double value) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t k = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride) p[k] = value;
}

}  // namespace

// =================================================================================================================
// launchers

cudaError_t launch_class_sums(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                              double* counts, double* sums, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (num_classes == 0 || y == nullptr) return cudaErrorInvalidValue;
  if (d > 0 && (x == nullptr || sums == nullptr)) return cudaErrorInvalidValue;

  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  const size_t target_blocks = sms * kBlocksPerSm;

  if (counts != nullptr) {
    const unsigned blocks = static_cast<unsigned>(std::min(ceil_div(rows, kThreads), target_blocks));
    if (num_classes <= kSharedBudget / sizeof(unsigned long long)) {
      const size_t smem = num_classes * sizeof(unsigned long long);
      class_counts_shared_kernel<<<blocks, kThreads, smem, stream>>>(y, rows, static_cast<int>(num_classes), counts);
    } else {
      class_counts_global_kernel<<<blocks, kThreads, 0, stream>>>(y, rows, num_classes, counts);
    }
    e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }

  if (d == 0) return cudaSuccess;
  const size_t tiles = ceil_div(d, kTile);
  if (tiles > static_cast<size_t>(INT_MAX)) return cudaErrorInvalidValue;  // gridDim.x limit is 2^31 - 1

  const bool use_shared = num_classes <= kSharedBudget / (kTile * sizeof(double));  // C <= 192
  // With the shared tile each block pays num_classes×kTile flush atomics, so give it at least num_classes rows:
  // then the flush never costs more atomics than the per-element ones it replaced.
  const size_t min_rows = use_shared ? std::max(kMinRowsPerBlock, num_classes) : kMinRowsPerBlock;
  size_t grid_y = std::min(ceil_div(target_blocks, tiles), ceil_div(rows, min_rows));
  grid_y = std::max<size_t>(1, std::min(grid_y, kMaxGridY));

  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(grid_y));
  const dim3 block(kTile, kTileRows);
  if (use_shared) {
    const size_t smem = num_classes * kTile * sizeof(double);
    class_sums_shared_kernel<<<grid, block, smem, stream>>>(x, y, rows, d, static_cast<int>(num_classes), sums);
  } else {
    class_sums_global_kernel<<<grid, block, 0, stream>>>(x, y, rows, d, num_classes, sums);
  }
  return cudaGetLastError();
}

cudaError_t launch_center_rows(const float* x, const int32_t* y, const double* means, size_t rows, size_t d,
                               size_t num_classes, double* z, float* z32, cudaStream_t stream) {
  if (rows == 0 || d == 0 || (z == nullptr && z32 == nullptr)) return cudaSuccess;
  if (x == nullptr || y == nullptr || means == nullptr || num_classes == 0) return cudaErrorInvalidValue;

  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  const size_t target_blocks = sms * kBlocksPerSm;

  // Block shape: as many warps across the columns as d needs (up to the whole block), the rest stacked over rows,
  // so small d does not leave most lanes idle.
  const size_t bx = std::min<size_t>(kThreads, ceil_div(d, 32) * 32);
  const size_t by = kThreads / bx;
  const size_t grid_x = std::min<size_t>(ceil_div(d, bx), 1024);
  size_t grid_y = std::min(ceil_div(rows, by), std::max<size_t>(1, target_blocks / grid_x));
  grid_y = std::max<size_t>(1, std::min(grid_y, kMaxGridY));

  const dim3 grid(static_cast<unsigned>(grid_x), static_cast<unsigned>(grid_y));
  const dim3 block(static_cast<unsigned>(bx), static_cast<unsigned>(by));
  center_rows_kernel<<<grid, block, 0, stream>>>(x, y, means, rows, d, num_classes, z, z32);
  return cudaGetLastError();
}

cudaError_t launch_class_sq_norms(const double* z, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                                  double* norms, cudaStream_t stream) {
  if (rows == 0 || d == 0) return cudaSuccess;  // d == 0: every norm is 0, nothing to add
  if (z == nullptr || y == nullptr || norms == nullptr || num_classes == 0) return cudaErrorInvalidValue;

  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  const size_t blocks = std::min(ceil_div(rows, kThreads / 32), sms * kBlocksPerSm);  // one warp per row
  if (num_classes <= kSharedBudget / sizeof(double)) {
    const size_t smem = num_classes * sizeof(double);
    class_sq_norms_kernel<true><<<static_cast<unsigned>(blocks), kThreads, smem, stream>>>(z, y, rows, d, num_classes, norms);
  } else {
    class_sq_norms_kernel<false><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(z, y, rows, d, num_classes, norms);
  }
  return cudaGetLastError();
}

cudaError_t launch_column_sq_sums(const float* p, size_t rows, size_t ld, size_t cols, double* sums,
                                  cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  if (p == nullptr || sums == nullptr || cols > ld) return cudaErrorInvalidValue;
  const size_t tiles = ceil_div(cols, kTile);
  if (tiles > static_cast<size_t>(INT_MAX)) return cudaErrorInvalidValue;

  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  size_t grid_y = std::min(ceil_div(sms * kBlocksPerSm, tiles), ceil_div(rows, kMinRowsPerBlock));
  grid_y = std::max<size_t>(1, std::min(grid_y, kMaxGridY));
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(grid_y));
  const dim3 block(kTile, kTileRows);
  column_sq_sums_kernel<<<grid, block, 0, stream>>>(p, rows, ld, cols, sums);
  return cudaGetLastError();
}

cudaError_t launch_argmax_rows(const float* p, size_t rows, size_t ld, size_t offset, size_t classes, double scale,
                               const double* table, const int32_t* y, int32_t* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (p == nullptr || table == nullptr || y == nullptr || out == nullptr || classes == 0 ||
      classes > static_cast<size_t>(INT32_MAX) || offset > ld || classes > ld - offset)
    return cudaErrorInvalidValue;

  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  const size_t blocks = std::min(ceil_div(rows, kThreads / 32), sms * kBlocksPerSm);  // one warp per row
  argmax_rows_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(p, rows, ld, offset, classes, scale,
                                                                             table, y, out);
  return cudaGetLastError();
}

cudaError_t launch_symmetrize_upper(double* a, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (a == nullptr) return cudaErrorInvalidValue;
  const size_t tiles = ceil_div(n, kSymTile);
  if (tiles > kMaxGridY) return cudaErrorInvalidValue;  // gridDim.y limit; n×n float64 would be > 32 TiB anyway
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(tiles));
  const dim3 block(kSymTile, kSymRows);
  symmetrize_upper_kernel<<<grid, block, 0, stream>>>(a, n);
  return cudaGetLastError();
}

cudaError_t launch_fill_f64(double* p, size_t n, double value, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (p == nullptr) return cudaErrorInvalidValue;
  size_t sms = 1;
  cudaError_t e = device_sm_count(&sms);
  if (e != cudaSuccess) return e;
  const size_t blocks = std::min(ceil_div(n, kThreads), sms * kBlocksPerSm);
  fill_f64_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(p, n, value);
  return cudaGetLastError();
}

cudaError_t probe_kernels() {
  // Fails (e.g. cudaErrorNoKernelImageForDevice) when the fatbinary has neither a compatible cubin nor PTX the driver
  // can JIT for the current device. All kernels are built for the same architecture list, so probing one suffices.
  cudaFuncAttributes attr{};
  return cudaFuncGetAttributes(&attr, fill_f64_kernel);
}

}  // namespace ncod::cuda
