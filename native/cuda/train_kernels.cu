// Training kernels and their launchers (see train_kernels.cuh). CUDA runtime only; the GEMMs are cuBLAS calls made
// by train_ops.cpp. Elementwise kernels use grid-stride loops; row kernels use one block per row (grid-stride over
// rows) with float64 block sums in a fixed order.
#include "train_kernels.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

namespace ncod::cuda {
namespace {

namespace tm = ncod::train_math;

constexpr int kThreads = 256;     // elementwise kernels
constexpr int kRowThreads = 128;  // one block per row: a multiple of 32, at most 1024 (block_sum's 32 warps)
constexpr size_t kMaxGrid = 65535u * 32u;
constexpr unsigned long long kNone = ~0ULL;  // "no element yet" in argmax reductions
constexpr unsigned kFull = 0xffffffffu;

inline size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0 ? 1 : 0); }
inline unsigned grid_for(size_t n, size_t threads) {
  return static_cast<unsigned>(std::max<size_t>(1, std::min(ceil_div(n, threads), kMaxGrid)));
}
inline unsigned row_grid(size_t rows) { return static_cast<unsigned>(std::min(rows, kMaxGrid)); }

__device__ inline size_t global_thread() { return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline size_t grid_stride() { return static_cast<size_t>(gridDim.x) * blockDim.x; }

// Sum over the block of one double per thread, every thread gets the total. The order is fixed (shuffle tree within
// warps, then warps in order), so results are deterministic. Every thread of the block must call it.
__device__ double block_sum(double v) {
  __shared__ double warp_sums[32];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(kFull, v, off);
  __syncthreads();  // earlier readers of warp_sums are done
  if ((threadIdx.x & 31u) == 0) warp_sums[threadIdx.x >> 5] = v;
  __syncthreads();
  double total = 0;
  for (unsigned w = 0; w < (blockDim.x >> 5); ++w) total += warp_sums[w];
  return total;
}

// (largest value, smallest index holding it) over the block: the first maximum of a sequential scan with '>'.
// Threads without an element pass idx = kNone. Every thread gets the result and must call it.
template <class T>
__device__ void block_argmax(T& v, unsigned long long& idx) {
  __shared__ T values[32];
  __shared__ unsigned long long indices[32];
  auto better = [](T ov, unsigned long long oi, T cv, unsigned long long ci) {
    return oi != kNone && (ci == kNone || ov > cv || (ov == cv && oi < ci));
  };
  for (int off = 16; off > 0; off >>= 1) {
    const T ov = __shfl_down_sync(kFull, v, off);
    const unsigned long long oi = __shfl_down_sync(kFull, idx, off);
    if (better(ov, oi, v, idx)) {
      v = ov;
      idx = oi;
    }
  }
  __syncthreads();
  if ((threadIdx.x & 31u) == 0) {
    values[threadIdx.x >> 5] = v;
    indices[threadIdx.x >> 5] = idx;
  }
  __syncthreads();
  v = values[0];
  idx = indices[0];
  for (unsigned w = 1; w < (blockDim.x >> 5); ++w) {
    if (better(values[w], indices[w], v, idx)) {
      v = values[w];
      idx = indices[w];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// elementwise (cpu_train_kernels.cpp)

__global__ void __launch_bounds__(kThreads)
    bias_activation_kernel(float* __restrict__ y, const float* __restrict__ bias, size_t rows, size_t cols, bool relu) {
  const size_t n = rows * cols;
  for (size_t q = global_thread(); q < n; q += grid_stride()) {
    const float v = y[q] + bias[q % cols];
    y[q] = relu && v < 0 ? 0.0f : v;
  }
}

__global__ void __launch_bounds__(kThreads) relu_mask_kernel(float* __restrict__ dy, const float* __restrict__ y, size_t n) {
  for (size_t q = global_thread(); q < n; q += grid_stride()) {
    if (!(y[q] > 0)) dy[q] = 0.0f;
  }
}

// blockDim = (32, 8): a block owns 32 columns (coalesced reads) and all rows; partial sums combined in shared memory.
__global__ void __launch_bounds__(kThreads)
    column_sums_kernel(const float* __restrict__ a, size_t rows, size_t cols, float* __restrict__ out) {
  __shared__ double part[8][32];
  const size_t col = static_cast<size_t>(blockIdx.x) * 32 + threadIdx.x;
  double acc = 0;
  if (col < cols) {
    for (size_t r = threadIdx.y; r < rows; r += 8) acc += a[r * cols + col];
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    double s = 0;
    for (int t = 0; t < 8; ++t) s += part[t][threadIdx.x];
    out[col] = static_cast<float>(s);
  }
}

__global__ void __launch_bounds__(kThreads) adamw_kernel(float* __restrict__ p, const float* __restrict__ g,
                                                        float* __restrict__ m, float* __restrict__ v, size_t n,
                                                        tm::AdamWStep step) {
  for (size_t q = global_thread(); q < n; q += grid_stride()) tm::adamw_update(p[q], g[q], m[q], v[q], step);
}

__global__ void __launch_bounds__(kThreads)
    gather_rows_kernel(const float* __restrict__ x, const int32_t* __restrict__ y, size_t rows, size_t dim,
                       const int32_t* __restrict__ order, size_t n, float* __restrict__ xb, int32_t* __restrict__ yb) {
  const size_t total = n * dim;
  for (size_t q = global_thread(); q < total; q += grid_stride()) {
    const int32_t row = order[q / dim];
    const bool ok = row >= 0 && static_cast<size_t>(row) < rows;
    xb[q] = ok ? x[static_cast<size_t>(row) * dim + q % dim] : 0.0f;
    if (q < n) {
      const int32_t r = order[q];
      yb[q] = r >= 0 && static_cast<size_t>(r) < rows ? y[r] : 0;
    }
  }
}

__global__ void __launch_bounds__(kThreads) add_kernel(float* __restrict__ y, const float* __restrict__ x, size_t n) {
  for (size_t q = global_thread(); q < n; q += grid_stride()) y[q] += x[q];
}

// ---------------------------------------------------------------------------------------------------------------
// LayerNorm (cpu_train_kernels.cpp layer_norm_forward / _backward)

__global__ void __launch_bounds__(kRowThreads)
    layer_norm_forward_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                              const float* __restrict__ beta, size_t rows, size_t cols, bool relu,
                              float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd) {
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * cols;
    double sum = 0;
    for (size_t c = threadIdx.x; c < cols; c += blockDim.x) sum += xr[c];
    const double mu = block_sum(sum) / double(cols);
    double sq = 0;
    for (size_t c = threadIdx.x; c < cols; c += blockDim.x) sq += (xr[c] - mu) * (xr[c] - mu);
    const float m = float(mu), rs = tm::ln_rstd(block_sum(sq) / double(cols));
    if (threadIdx.x == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
    for (size_t c = threadIdx.x; c < cols; c += blockDim.x) {
      const float o = tm::ln_output(tm::ln_xhat(xr[c], m, rs), gamma[c], beta[c]);
      y[r * cols + c] = relu && o < 0 ? 0.0f : o;
    }
  }
}

__global__ void __launch_bounds__(kRowThreads)
    layer_norm_dx_kernel(const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                         const float* __restrict__ gamma, const float* __restrict__ y, const float* __restrict__ dy,
                         size_t rows, size_t cols, bool relu, float* __restrict__ dx) {
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const size_t o = r * cols;
    const float m = mean[r], rs = rstd[r];
    auto g = [&](size_t c) { return double(tm::relu_grad(dy[o + c], y[o + c], relu)) * gamma[c]; };
    double sg = 0, sgx = 0;
    for (size_t c = threadIdx.x; c < cols; c += blockDim.x) {
      sg += g(c);
      sgx += g(c) * tm::ln_xhat(x[o + c], m, rs);
    }
    const double mean_g = block_sum(sg) / double(cols), mean_gx = block_sum(sgx) / double(cols);
    for (size_t c = threadIdx.x; c < cols; c += blockDim.x) {
      dx[o + c] = tm::ln_dx(rs, g(c), mean_g, tm::ln_xhat(x[o + c], m, rs), mean_gx);
    }
  }
}

// blockDim = (32, 8), as column_sums_kernel: a block owns 32 columns and all rows.
__global__ void __launch_bounds__(kThreads)
    layer_norm_param_grads_kernel(const float* __restrict__ x, const float* __restrict__ mean,
                                  const float* __restrict__ rstd, const float* __restrict__ y,
                                  const float* __restrict__ dy, size_t rows, size_t cols, bool relu,
                                  float* __restrict__ dgamma, float* __restrict__ dbeta) {
  __shared__ double part_g[8][32], part_gx[8][32];
  const size_t col = static_cast<size_t>(blockIdx.x) * 32 + threadIdx.x;
  double sg = 0, sgx = 0;
  if (col < cols) {
    for (size_t r = threadIdx.y; r < rows; r += 8) {
      const size_t q = r * cols + col;
      const double g = tm::relu_grad(dy[q], y[q], relu);
      sg += g;
      sgx += g * tm::ln_xhat(x[q], mean[r], rstd[r]);
    }
  }
  part_g[threadIdx.y][threadIdx.x] = sg;
  part_gx[threadIdx.y][threadIdx.x] = sgx;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    double a = 0, b = 0;
    for (int t = 0; t < 8; ++t) {
      a += part_g[t][threadIdx.x];
      b += part_gx[t][threadIdx.x];
    }
    dbeta[col] = static_cast<float>(a);
    dgamma[col] = static_cast<float>(b);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// cross-entropy (training.cpp cross_entropy_ls)

__global__ void __launch_bounds__(kRowThreads)
    cross_entropy_kernel(const float* __restrict__ logits, const int32_t* __restrict__ y, size_t rows, size_t K,
                         double off, double on, float* __restrict__ dlogits, double* __restrict__ row_loss,
                         int32_t* __restrict__ row_hit) {
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* z = logits + r * K;
    const size_t label = static_cast<size_t>(y[r]);  // validated by the addon; otherwise it only fails to match
    float top_v = 0;
    unsigned long long top = kNone;
    for (size_t c = threadIdx.x; c < K; c += blockDim.x) {
      if (top == kNone || z[c] > top_v) {
        top_v = z[c];
        top = c;
      }
    }
    block_argmax(top_v, top);
    const double max = top_v;
    double sum_exp = 0, target_dot = 0;
    for (size_t c = threadIdx.x; c < K; c += blockDim.x) {
      sum_exp += exp(double(z[c]) - max);
      target_dot += (label == c ? on : off) * double(z[c]);
    }
    sum_exp = block_sum(sum_exp);
    target_dot = block_sum(target_dot);
    const double lse = max + log(sum_exp);
    for (size_t c = threadIdx.x; c < K; c += blockDim.x) {
      const double p = exp(double(z[c]) - lse);
      dlogits[r * K + c] = float((p - (label == c ? on : off)) / double(rows));
    }
    if (threadIdx.x == 0) {
      row_loss[r] = lse - target_dot;
      row_hit[r] = top == label ? 1 : 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// nearest-neighbour entropy (training.cpp nn_entropy)

__global__ void __launch_bounds__(kRowThreads) normalize_rows_kernel(const float* __restrict__ e, size_t rows, size_t d,
                                                                     double* __restrict__ hat, double* __restrict__ norms) {
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* er = e + r * d;
    double n2 = 0;
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) n2 += double(er[k]) * er[k];
    const double norm = sqrt(block_sum(n2));
    const double denom = fmax(norm, tm::kNormEps);
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) hat[r * d + k] = er[k] / denom;
    if (threadIdx.x == 0) norms[r] = norm;
  }
}

__global__ void __launch_bounds__(kRowThreads)
    nearest_neighbours_kernel(const double* __restrict__ hat, const double* __restrict__ gram, size_t rows, size_t d,
                              int32_t* __restrict__ nbr, double* __restrict__ coef, double* __restrict__ row_loss) {
  for (size_t i = blockIdx.x; i < rows; i += gridDim.x) {
    double best = 0;
    unsigned long long j = kNone;
    for (size_t k = threadIdx.x; k < rows; k += blockDim.x) {
      const double g = gram[i * rows + k];
      if (k != i && (j == kNone || g > best)) {
        best = g;
        j = k;
      }
    }
    block_argmax(best, j);
    double dist2 = 0;
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) {
      const double v = hat[i * d + k] - hat[j * d + k] + tm::kDistEps;
      dist2 += v * v;
    }
    const double dist = sqrt(block_sum(dist2));
    if (threadIdx.x == 0) {
      nbr[i] = static_cast<int32_t>(j);
      row_loss[i] = tm::nn_row_loss(dist);
      coef[i] = tm::nn_row_coef(dist, rows);
    }
  }
}

__global__ void __launch_bounds__(kRowThreads)
    nn_entropy_grad_kernel(const double* __restrict__ hat, const double* __restrict__ norms,
                           const int32_t* __restrict__ nbr, const double* __restrict__ coef, size_t rows, size_t d,
                           double scale, double* __restrict__ grad_hat, float* __restrict__ de) {
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    double* gh = grad_hat + r * d;  // each thread owns the elements k ≡ threadIdx.x (mod blockDim.x)
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) gh[k] = 0;
    for (size_t i = 0; i < rows; ++i) {
      const size_t j = static_cast<size_t>(nbr[i]);
      if (i != r && j != r) continue;  // uniform across the block
      const double c = coef[i];
      for (size_t k = threadIdx.x; k < d; k += blockDim.x) {
        const double v = hat[i * d + k] - hat[j * d + k] + tm::kDistEps;
        gh[k] += i == r ? c * v : -(c * v);
      }
    }
    double dot = 0;
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) dot += hat[r * d + k] * gh[k];
    dot = block_sum(dot);
    const double norm = norms[r];
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) {
      de[r * d + k] = float(scale * tm::normalize_backward_element(hat[r * d + k], gh[k], norm, dot));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ETF projector (training.cpp etf_projector_forward / _backward): A₁ = s·(I_{h×d} − 1/d), A₂ = s·(I_{d×h} − 1/d).

__global__ void __launch_bounds__(kRowThreads) etf_forward_kernel(const float* __restrict__ e, size_t rows, size_t d,
                                                                  size_t h, float* __restrict__ hidden,
                                                                  float* __restrict__ z) {
  const double s = tm::etf_scale(d);
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* er = e + r * d;
    float* hr = hidden + r * h;
    double se = 0;
    for (size_t k = threadIdx.x; k < d; k += blockDim.x) se += er[k];
    const double mean_e = block_sum(se) / double(d);
    double sh = 0;
    for (size_t i = threadIdx.x; i < h; i += blockDim.x) {
      const float v = tm::etf_element(s, i < d ? double(er[i]) : 0.0, mean_e);
      hr[i] = v > 0 ? v : 0.0f;
      sh += hr[i];
    }
    const double mean_h = block_sum(sh) / double(d);
    double su = 0;
    for (size_t i = threadIdx.x; i < d; i += blockDim.x) {
      const float u = tm::etf_element(s, hr[i], mean_h);  // hr[i] was written by this thread
      su += double(u) * u;
    }
    const double norm = fmax(sqrt(block_sum(su)), tm::kNormEps);
    for (size_t i = threadIdx.x; i < d; i += blockDim.x) z[r * d + i] = float(tm::etf_element(s, hr[i], mean_h) / norm);
  }
}

// Recomputes u = A₂·hidden, du (through the normalisation) and dh (through A₂ᵀ and the ReLU) per element from block
// sums instead of storing them: five sums per row.
__global__ void __launch_bounds__(kRowThreads)
    etf_backward_kernel(const float* __restrict__ hidden, const float* __restrict__ z, const float* __restrict__ dz,
                        size_t rows, size_t d, size_t h, float* __restrict__ de) {
  const double s = tm::etf_scale(d);
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* hr = hidden + r * h;
    const float* zr = z + r * d;
    const float* dzr = dz + r * d;
    double sh = 0;
    for (size_t i = threadIdx.x; i < h; i += blockDim.x) sh += hr[i];
    const double mean_h = block_sum(sh) / double(d);
    double su = 0, sd = 0;
    for (size_t i = threadIdx.x; i < d; i += blockDim.x) {
      const float u = tm::etf_element(s, hr[i], mean_h);
      su += double(u) * u;
      sd += double(zr[i]) * double(dzr[i]);
    }
    const double norm = sqrt(block_sum(su));  // not clamped: normalize_backward_element tests it against ε
    const double dot = block_sum(sd);
    auto du = [&](size_t i) { return float(tm::normalize_backward_element(zr[i], dzr[i], norm, dot)); };
    double sdu = 0;
    for (size_t i = threadIdx.x; i < d; i += blockDim.x) sdu += du(i);
    const double mean_du = block_sum(sdu) / double(d);
    auto dh = [&](size_t j) {
      const float g = tm::etf_element(s, j < d ? double(du(j)) : 0.0, mean_du);
      return hr[j] > 0 ? g : 0.0f;
    };
    double sdh = 0;
    for (size_t j = threadIdx.x; j < h; j += blockDim.x) sdh += dh(j);
    const double mean_dh = block_sum(sdh) / double(d);
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) de[r * d + j] = tm::etf_element(s, dh(j), mean_dh);
  }
}

}  // namespace

// =================================================================================================================
// launchers

cudaError_t launch_bias_activation(float* y, const float* bias, size_t rows, size_t cols, bool relu,
                                   cudaStream_t stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  if (y == nullptr || bias == nullptr) return cudaErrorInvalidValue;
  bias_activation_kernel<<<grid_for(rows * cols, kThreads), kThreads, 0, stream>>>(y, bias, rows, cols, relu);
  return cudaGetLastError();
}

cudaError_t launch_relu_mask(float* dy, const float* y, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (dy == nullptr || y == nullptr) return cudaErrorInvalidValue;
  relu_mask_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(dy, y, n);
  return cudaGetLastError();
}

cudaError_t launch_column_sums(const float* a, size_t rows, size_t cols, float* out, cudaStream_t stream) {
  if (cols == 0) return cudaSuccess;
  if (out == nullptr || (rows > 0 && a == nullptr)) return cudaErrorInvalidValue;
  const size_t tiles = ceil_div(cols, 32);
  if (tiles > static_cast<size_t>(INT_MAX)) return cudaErrorInvalidValue;
  column_sums_kernel<<<static_cast<unsigned>(tiles), dim3(32, 8), 0, stream>>>(a, rows, cols, out);
  return cudaGetLastError();
}

cudaError_t launch_adamw(float* p, const float* g, float* m, float* v, size_t n, const train_math::AdamWStep& step,
                         cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (p == nullptr || g == nullptr || m == nullptr || v == nullptr) return cudaErrorInvalidValue;
  adamw_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(p, g, m, v, n, step);
  return cudaGetLastError();
}

cudaError_t launch_gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order,
                               size_t n, float* xb, int32_t* yb, cudaStream_t stream) {
  if (n == 0 || dim == 0) return cudaSuccess;
  if (x == nullptr || y == nullptr || order == nullptr || xb == nullptr || yb == nullptr) return cudaErrorInvalidValue;
  gather_rows_kernel<<<grid_for(n * dim, kThreads), kThreads, 0, stream>>>(x, y, rows, dim, order, n, xb, yb);
  return cudaGetLastError();
}

cudaError_t launch_add(float* y, const float* x, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (y == nullptr || x == nullptr) return cudaErrorInvalidValue;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(y, x, n);
  return cudaGetLastError();
}

cudaError_t launch_layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows, size_t cols,
                                      bool relu, float* y, float* mean, float* rstd, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (x == nullptr || gamma == nullptr || beta == nullptr || y == nullptr || mean == nullptr || rstd == nullptr ||
      cols == 0)
    return cudaErrorInvalidValue;
  layer_norm_forward_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(x, gamma, beta, rows, cols, relu, y, mean,
                                                                        rstd);
  return cudaGetLastError();
}

cudaError_t launch_layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma,
                                       const float* y, const float* dy, size_t rows, size_t cols, bool relu, float* dx,
                                       float* dgamma, float* dbeta, cudaStream_t stream) {
  if (cols == 0) return cudaSuccess;
  if (x == nullptr || mean == nullptr || rstd == nullptr || gamma == nullptr || y == nullptr || dy == nullptr ||
      dx == nullptr || dgamma == nullptr || dbeta == nullptr)
    return cudaErrorInvalidValue;
  const size_t tiles = ceil_div(cols, 32);
  if (tiles > static_cast<size_t>(INT_MAX)) return cudaErrorInvalidValue;
  if (rows > 0) {
    layer_norm_dx_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(x, mean, rstd, gamma, y, dy, rows, cols, relu, dx);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  layer_norm_param_grads_kernel<<<static_cast<unsigned>(tiles), dim3(32, 8), 0, stream>>>(x, mean, rstd, y, dy, rows,
                                                                                          cols, relu, dgamma, dbeta);
  return cudaGetLastError();
}

cudaError_t launch_cross_entropy_ls(const float* logits, const int32_t* y, size_t rows, size_t classes,
                                    double smoothing, float* dlogits, double* row_loss, int32_t* row_hit,
                                    cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (logits == nullptr || y == nullptr || dlogits == nullptr || row_loss == nullptr || row_hit == nullptr ||
      classes == 0)
    return cudaErrorInvalidValue;
  const double off = smoothing / double(classes), on = 1.0 - smoothing + off;  // as training.cpp
  cross_entropy_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(logits, y, rows, classes, off, on, dlogits,
                                                                   row_loss, row_hit);
  return cudaGetLastError();
}

cudaError_t launch_normalize_rows(const float* e, size_t rows, size_t d, double* hat, double* norms,
                                  cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (e == nullptr || hat == nullptr || norms == nullptr || d == 0) return cudaErrorInvalidValue;
  normalize_rows_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(e, rows, d, hat, norms);
  return cudaGetLastError();
}

cudaError_t launch_nearest_neighbours(const double* hat, const double* gram, size_t rows, size_t d, int32_t* nbr,
                                      double* coef, double* row_loss, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (hat == nullptr || gram == nullptr || nbr == nullptr || coef == nullptr || row_loss == nullptr || rows < 2 ||
      rows > static_cast<size_t>(INT32_MAX) || d == 0)
    return cudaErrorInvalidValue;
  nearest_neighbours_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(hat, gram, rows, d, nbr, coef, row_loss);
  return cudaGetLastError();
}

cudaError_t launch_nn_entropy_grad(const double* hat, const double* norms, const int32_t* nbr, const double* coef,
                                   size_t rows, size_t d, double scale, double* grad_hat, float* de,
                                   cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (hat == nullptr || norms == nullptr || nbr == nullptr || coef == nullptr || grad_hat == nullptr ||
      de == nullptr || d == 0)
    return cudaErrorInvalidValue;
  nn_entropy_grad_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(hat, norms, nbr, coef, rows, d, scale, grad_hat,
                                                                     de);
  return cudaGetLastError();
}

cudaError_t launch_etf_forward(const float* e, size_t rows, size_t d, size_t h, float* hidden, float* z,
                               cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (e == nullptr || hidden == nullptr || z == nullptr || d < 2 || h < d) return cudaErrorInvalidValue;
  etf_forward_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(e, rows, d, h, hidden, z);
  return cudaGetLastError();
}

cudaError_t launch_etf_backward(const float* hidden, const float* z, const float* dz, size_t rows, size_t d, size_t h,
                                float* de, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (hidden == nullptr || z == nullptr || dz == nullptr || de == nullptr || d < 2 || h < d)
    return cudaErrorInvalidValue;
  etf_backward_kernel<<<row_grid(rows), kRowThreads, 0, stream>>>(hidden, z, dz, rows, d, h, de);
  return cudaGetLastError();
}

}  // namespace ncod::cuda
