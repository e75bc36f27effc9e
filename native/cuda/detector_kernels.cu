// OOD detector kernels: fused logit scores, ReAct clipping, whitened distances, exact top-k merging.
// Mirrors the CPU row bodies in cpu/logit_row.h and cpu/detector_kernels.cpp (float64 arithmetic).
#include "detector_kernels.cuh"

#include <cuda_runtime.h>
#include <math_constants.h>

#include <algorithm>
#include <cfloat>
#include <climits>

namespace ncod::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowThreads = 128;  // one block per logits row
constexpr size_t kMaxGrid = 65535u * 32u;

inline size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0 ? 1 : 0); }
inline unsigned grid_for(size_t n, size_t threads) {
  return static_cast<unsigned>(std::max<size_t>(1, std::min(ceil_div(n, threads), kMaxGrid)));
}

// Block-wide reduction of one double per thread (op: 0 sum, 1 max); every thread gets the result.
__device__ double block_reduce(double v, int op) {
  __shared__ double shared[kRowThreads];
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const double o = shared[threadIdx.x + s];
      shared[threadIdx.x] = op == 0 ? shared[threadIdx.x] + o : fmax(shared[threadIdx.x], o);
    }
    __syncthreads();
  }
  const double r = shared[0];
  __syncthreads();
  return r;
}

// Block-wide (max, first index of the max); every thread gets the result.
__device__ void block_argmax(double& v, size_t& idx) {
  __shared__ double values[kRowThreads];
  __shared__ size_t indices[kRowThreads];
  values[threadIdx.x] = v;
  indices[threadIdx.x] = idx;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const double ov = values[threadIdx.x + s];
      const size_t oi = indices[threadIdx.x + s];
      if (ov > values[threadIdx.x] || (ov == values[threadIdx.x] && oi < indices[threadIdx.x])) {
        values[threadIdx.x] = ov;
        indices[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  v = values[0];
  idx = indices[0];
  __syncthreads();
}

__device__ double logit_at(const float* z, const float* bias, size_t c) {
  return bias != nullptr ? double(z[c] + bias[c]) : double(z[c]);  // float32 add, as the CPU path
}

__global__ void __launch_bounds__(kRowThreads)
    score_logits_kernel(const float* __restrict__ zs, size_t rows, size_t C, const float* __restrict__ bias,
                        int kind, double t, double gamma, size_t top, const double* __restrict__ table,
                        double* __restrict__ out) {
  for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* z = zs + row * C;
    double m = -DBL_MAX;
    size_t top1 = C;  // first index of the maximum; threads without elements hold (−DBL_MAX, C) and never win
    bool finite = true;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
      const double v = logit_at(z, bias, c);
      finite = finite && isfinite(v);
      if (v > m || top1 == C) {
        m = v;
        top1 = c;
      }
    }
    if (block_reduce(finite ? 0.0 : 1.0, 1) > 0) {  // a NaN or ±inf: the row scores NaN (the host then reports it)
      if (threadIdx.x == 0) out[row] = CUDART_NAN;
      continue;
    }
    block_argmax(m, top1);
    if (kind == 1 || kind == 6) {
      if (threadIdx.x == 0) out[row] = kind == 1 ? m : m - table[top1];
      continue;
    }
    if (kind == 4) {  // Entropy as on the CPU (cpu/logit_row.h softmax_entropy): −[log1p(r) − w/(1 + r)]
      double r = 0, w = 0;  // over every logit but the first maximum: Σ e^u and Σ e^u·u, u = (z − m)/T
      for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
        if (c == top1) continue;
        const double u = (logit_at(z, bias, c) - m) / t;
        const double e = exp(u);
        r += e;
        w += e * u;
      }
      r = block_reduce(r, 0);
      w = block_reduce(w, 0);
      if (threadIdx.x == 0) out[row] = -(log1p(r) - w / (1 + r));
      continue;
    }
    if (kind == 5) {  // fDBD: Σ_{c≠ŷ} (z_ŷ − z_c)/‖w_ŷ − w_c‖ / (C − 1); the table's diagonal is zero
      double s = 0;
      for (size_t c = threadIdx.x; c < C; c += blockDim.x) s += (m - logit_at(z, bias, c)) * table[top1 * C + c];
      s = block_reduce(s, 0);
      if (threadIdx.x == 0) out[row] = C > 1 ? s / double(C - 1) : 0.0;
      continue;
    }
    const double temp = kind == 2 ? t : 1.0;
    double s = 0;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) s += exp((logit_at(z, bias, c) - m) / temp);
    s = block_reduce(s, 0);
    if (kind == 2 || kind == 0) {
      if (threadIdx.x == 0) out[row] = kind == 2 ? m + temp * log(s) : 1.0 / s;
      continue;
    }
    // GEN as on the CPU (cpu/logit_row.h): each term is exp(γ·(log p + log(1 − p))); for the first maximum,
    // 1 − p is the sum of the other exponentials (from the second largest logit) over Σ, never 1 − p.
    // Element c is in the top M when fewer than M elements beat it (larger logit, or equal with a smaller index).
    // Larger logits mean larger-or-equal probabilities, so this picks a valid top-M set of p.
    const double log_sum = log(s);
    double m2 = -DBL_MAX;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x)
      if (c != top1) m2 = fmax(m2, logit_at(z, bias, c));
    m2 = block_reduce(m2, 1);
    double rest = 0;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x)
      if (c != top1) rest += exp(logit_at(z, bias, c) - m2);
    rest = block_reduce(rest, 0);
    double g = 0;
    for (size_t c = threadIdx.x; c < C; c += blockDim.x) {
      const double zc = logit_at(z, bias, c);
      bool in = top >= C;
      if (!in) {
        size_t beaten = 0;
        for (size_t o = 0; o < C && beaten < top; ++o) {
          const double zo = logit_at(z, bias, o);
          beaten += (zo > zc || (zo == zc && o < c)) ? 1 : 0;
        }
        in = beaten < top;
      }
      if (in && C > 1) {  // with one class, 1 − p = 0 and the only term is 0
        const double log_p = (zc - m) - log_sum;
        const double log_rest = c == top1 ? (m2 - m) + log(rest) - log_sum : log1p(-exp(log_p));
        g += exp(gamma * (log_p + log_rest));
      }
    }
    g = block_reduce(g, 0);
    if (threadIdx.x == 0) out[row] = -g;
  }
}

__global__ void clip_kernel(float* x, size_t n, float clip) {
  for (size_t k = blockIdx.x * size_t(blockDim.x) + threadIdx.x; k < n; k += size_t(gridDim.x) * blockDim.x)
    x[k] = fminf(x[k], clip);
}

__global__ void shift_rows_kernel(const float* __restrict__ x, size_t n, size_t d, const double* __restrict__ shift,
                                  double* __restrict__ xs) {
  for (size_t k = blockIdx.x * size_t(blockDim.x) + threadIdx.x; k < n; k += size_t(gridDim.x) * blockDim.x)
    xs[k] = double(x[k]) - shift[k % d];
}

__global__ void min_distances_kernel(const double* __restrict__ y, size_t rows, size_t p, const double* __restrict__ g,
                                     size_t count, const double* __restrict__ centre_sq, double* __restrict__ out) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < rows; i += size_t(gridDim.x) * blockDim.x) {
    double yy = 0;
    for (size_t j = 0; j < p; ++j) yy += y[i * p + j] * y[i * p + j];
    double best = DBL_MAX;
    for (size_t c = 0; c < count; ++c) best = fmin(best, yy - 2 * g[i * count + c] + centre_sq[c]);
    out[i] = fmax(best, 0.0);
  }
}

// Min-heap helpers on a float array (parent of i is (i − 1) / 2).
__device__ void heap_push(float* h, uint32_t size, float v) {
  uint32_t i = size;
  while (i > 0) {
    const uint32_t parent = (i - 1) / 2;
    if (h[parent] <= v) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = v;
}

__device__ void heap_replace_top(float* h, uint32_t size, float v) {
  uint32_t i = 0;
  for (;;) {
    const uint32_t l = 2 * i + 1, r = l + 1;
    uint32_t smallest = i;
    float sv = v;
    if (l < size && h[l] < sv) {
      smallest = l;
      sv = h[l];
    }
    if (r < size && h[r] < sv) smallest = r;
    if (smallest == i) break;
    h[i] = h[smallest];
    i = smallest;
  }
  h[i] = v;
}

// One thread per query: exact, and the tile's similarities are read once.
__global__ void topk_update_kernel(const float* __restrict__ s, size_t rows, size_t cols, size_t k,
                                   float* __restrict__ heaps, uint32_t* __restrict__ sizes) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < rows; i += size_t(gridDim.x) * blockDim.x) {
    float* h = heaps + i * k;
    uint32_t size = sizes[i];
    for (size_t j = 0; j < cols; ++j) {
      const float v = s[i * cols + j];
      if (size < k) {
        heap_push(h, size, v);
        ++size;
      } else if (v > h[0]) {
        heap_replace_top(h, size, v);
      }
    }
    sizes[i] = size;
  }
}

__global__ void topk_result_kernel(const float* __restrict__ heaps, size_t rows, size_t k, double* __restrict__ out) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < rows; i += size_t(gridDim.x) * blockDim.x)
    out[i] = heaps[i * k];
}

}  // namespace

cudaError_t launch_score_logits(const float* z, size_t rows, size_t classes, const float* bias, int kind,
                                double temperature, double gamma, size_t top, const double* table, double* out,
                                cudaStream_t stream) {
  if (rows == 0 || classes == 0) return cudaSuccess;
  score_logits_kernel<<<grid_for(rows, 1), kRowThreads, 0, stream>>>(z, rows, classes, bias, kind, temperature, gamma,
                                                                      top, table, out);
  return cudaGetLastError();
}

cudaError_t launch_clip(float* x, size_t n, float clip, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  clip_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(x, n, clip);
  return cudaGetLastError();
}

cudaError_t launch_shift_rows(const float* x, size_t rows, size_t d, const double* shift, double* xs,
                              cudaStream_t stream) {
  if (rows == 0 || d == 0) return cudaSuccess;
  shift_rows_kernel<<<grid_for(rows * d, kThreads), kThreads, 0, stream>>>(x, rows * d, d, shift, xs);
  return cudaGetLastError();
}

cudaError_t launch_min_distances(const double* y, size_t rows, size_t p, const double* g, size_t count,
                                 const double* centre_sq, double* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  min_distances_kernel<<<grid_for(rows, kThreads), kThreads, 0, stream>>>(y, rows, p, g, count, centre_sq, out);
  return cudaGetLastError();
}

cudaError_t launch_topk_update(const float* s, size_t rows, size_t cols, size_t k, float* heaps, uint32_t* sizes,
                               cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  topk_update_kernel<<<grid_for(rows, 128), 128, 0, stream>>>(s, rows, cols, k, heaps, sizes);
  return cudaGetLastError();
}

cudaError_t launch_topk_result(const float* heaps, size_t rows, size_t k, double* out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  topk_result_kernel<<<grid_for(rows, kThreads), kThreads, 0, stream>>>(heaps, rows, k, out);
  return cudaGetLastError();
}

}  // namespace ncod::cuda
