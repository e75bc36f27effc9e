// CPU training kernels: GEMMs split by output rows across OpenMP threads (single-threaded OpenBLAS inside,
// see cpu_backend.cpp), elementwise loops over rows. Every output element is computed by one thread in a fixed
// way, so results are bitwise reproducible for a given thread count.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "../core/train_kernels.h"
#include "../core/train_math.h"
#include "../core/training.h"
#include "parallel.h"

namespace ncod {

namespace {

// Element-wise training loops split over threads from this many elements (more than 2^16).
constexpr size_t kTrainParallelMin = (size_t(1) << 16) + 1;

class CpuTrainKernels final : public TrainKernels {
 public:
  // Kernel memory is host memory: upload and download are copies.
  void* allocate(size_t bytes) override { return ::operator new(bytes); }
  bool kernel_memory_is_host() const override { return true; }
  void release(void* p) noexcept override { ::operator delete(p); }
  void upload(void* dst, const void* host_src, size_t bytes) override { std::memcpy(dst, host_src, bytes); }
  void download(void* host_dst, const void* src, size_t bytes) override { std::memcpy(host_dst, src, bytes); }

  void sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, const float* B, float beta,
             float* C) override {
    // Split the rows of C: rows [r0, r1) of op(A) times op(B). op(A) row r starts at A + r·lda (no trans)
    // or at column r of A (trans).
    const size_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
    const int threads = cpu::threads_for(M * N * K, M * N * K / (1 << 18), 1 << 18);
#pragma omp parallel num_threads(threads)
    {
      const size_t t = omp_get_thread_num(), T = omp_get_num_threads();
      const size_t r0 = M * t / T, r1 = M * (t + 1) / T;
      if (r1 > r0) {
        const float* a = trans_a ? A + r0 : A + r0 * lda;
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(r1 - r0),
                    int(N), int(K), 1.0f, a, int(lda), B, int(ldb), beta, C + r0 * N, int(N));
      }
    }
  }

  void bias_activation(float* Y, const float* bias, size_t rows, size_t cols, bool relu) override {
#pragma omp parallel for schedule(static) num_threads(cpu::threads_for(rows * cols, rows, kTrainParallelMin))
    for (size_t r = 0; r < rows; ++r) {
      float* y = Y + r * cols;
      for (size_t c = 0; c < cols; ++c) {
        const float v = y[c] + bias[c];
        y[c] = relu && v < 0 ? 0.0f : v;
      }
    }
  }

  void activation_backward(float* dY, const float* Y, size_t rows, size_t cols, bool relu, float* db) override {
    if (relu) {
#pragma omp parallel for schedule(static) num_threads(cpu::threads_for(rows * cols, rows * cols, kTrainParallelMin))
      for (size_t q = 0; q < rows * cols; ++q) {
        if (!(Y[q] > 0)) dY[q] = 0.0f;
      }
    }
    // Column sums in a fixed order (float64), small next to the GEMMs.
    for (size_t c = 0; c < cols; ++c) {
      double s = 0;
      for (size_t r = 0; r < rows; ++r) s += dY[r * cols + c];
      db[c] = static_cast<float>(s);
    }
  }

  void adamw(float* p, const float* g, float* m, float* v, size_t n, const AdamWParams& hp, int64_t step) override {
    const train_math::AdamWStep s = train_math::adamw_step(hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weight_decay, step);
#pragma omp parallel for schedule(static) num_threads(cpu::threads_for(n, n, kTrainParallelMin))
    for (size_t q = 0; q < n; ++q) train_math::adamw_update(p[q], g[q], m[q], v[q], s);
  }

  void gather_rows(const float* x, const int32_t* y, size_t rows, size_t dim, const int32_t* order, size_t n, float* xb,
                   int32_t* yb) override {
    for (size_t i = 0; i < n; ++i) {
      const size_t row = static_cast<size_t>(order[i]);  // a negative index becomes huge: out of range too
      if (row < rows) {
        std::copy(x + row * dim, x + (row + 1) * dim, xb + i * dim);
        yb[i] = y[row];
      } else {
        std::fill(xb + i * dim, xb + (i + 1) * dim, 0.0f);
        yb[i] = 0;
      }
    }
  }

  void add(float* y, const float* x, size_t n) override {
    for (size_t q = 0; q < n; ++q) y[q] += x[q];
  }

  void layer_norm_forward(const float* x, const float* gamma, const float* beta, size_t rows, size_t cols, bool relu,
                          float* y, float* mean, float* rstd) override {
#pragma omp parallel for schedule(static) num_threads(cpu::threads_for(rows * cols, rows, kTrainParallelMin))
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      double sum = 0, sq = 0;
      for (size_t c = 0; c < cols; ++c) sum += xr[c];
      const double mu = sum / double(cols);
      for (size_t c = 0; c < cols; ++c) sq += (xr[c] - mu) * (xr[c] - mu);
      mean[r] = float(mu);
      rstd[r] = train_math::ln_rstd(sq / double(cols));
      for (size_t c = 0; c < cols; ++c) {
        const float o = train_math::ln_output(train_math::ln_xhat(xr[c], mean[r], rstd[r]), gamma[c], beta[c]);
        y[r * cols + c] = relu && o < 0 ? 0.0f : o;
      }
    }
  }

  void layer_norm_backward(const float* x, const float* mean, const float* rstd, const float* gamma, const float* y,
                           const float* dy, size_t rows, size_t cols, bool relu, float* dx, float* dgamma,
                           float* dbeta) override {
    using train_math::ln_xhat;
    using train_math::relu_grad;
#pragma omp parallel for schedule(static) num_threads(cpu::threads_for(rows * cols, rows, kTrainParallelMin))
    for (size_t r = 0; r < rows; ++r) {
      const size_t o = r * cols;
      double sg = 0, sgx = 0;
      for (size_t c = 0; c < cols; ++c) {
        const double g = double(relu_grad(dy[o + c], y[o + c], relu)) * gamma[c];
        sg += g;
        sgx += g * ln_xhat(x[o + c], mean[r], rstd[r]);
      }
      const double mean_g = sg / double(cols), mean_gx = sgx / double(cols);
      for (size_t c = 0; c < cols; ++c) {
        const double g = double(relu_grad(dy[o + c], y[o + c], relu)) * gamma[c];
        dx[o + c] = train_math::ln_dx(rstd[r], g, mean_g, ln_xhat(x[o + c], mean[r], rstd[r]), mean_gx);
      }
    }
    // Column sums in a fixed order (float64), as activation_backward.
    for (size_t c = 0; c < cols; ++c) {
      double sg = 0, sgx = 0;
      for (size_t r = 0; r < rows; ++r) {
        const double g = relu_grad(dy[r * cols + c], y[r * cols + c], relu);
        sg += g;
        sgx += g * ln_xhat(x[r * cols + c], mean[r], rstd[r]);
      }
      dbeta[c] = float(sg);
      dgamma[c] = float(sgx);
    }
  }

  double cross_entropy_ls(const float* logits, const int32_t* y, size_t B, size_t K, double eps, float* dlogits,
                          size_t* correct) override {
    return ncod::cross_entropy_ls(logits, y, B, K, eps, dlogits, correct);
  }
  double nn_entropy(const float* e, size_t B, size_t d, double scale, float* de) override {
    return ncod::nn_entropy(e, B, d, scale, de);
  }
  void etf_projector_forward(const float* e, size_t B, size_t d, size_t h, float* hidden, float* z) override {
    ncod::etf_projector_forward(e, B, d, h, hidden, z);
  }
  void etf_projector_backward(const float* hidden, const float* z, const float* dz, size_t B, size_t d, size_t h,
                              float* de) override {
    ncod::etf_projector_backward(hidden, z, dz, B, d, h, de);
  }
};

}  // namespace

TrainKernels& cpu_train_kernels() {
  static CpuTrainKernels kernels;
  return kernels;
}

}  // namespace ncod
