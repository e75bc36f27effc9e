// Training operations of the plugin (see train_ops.h): argument checks that protect memory, launches, cuBLAS calls.
#include "train_ops.h"

#include <climits>
#include <string>

#include "train_kernels.cuh"

namespace ncod::cuda {

namespace {

void require_int(size_t v, const char* what) {
  if (v > static_cast<size_t>(INT_MAX)) fail(std::string(what) + " exceeds the cuBLAS int limit");
}

void require(bool ok, const char* what) {
  if (!ok) fail(std::string(what) + ": null pointer or invalid size");
}

// Grows a scratch buffer to n elements of T.
template <class T>
T* scratch(DeviceBuffer& b, size_t n, const char* what) {
  b.reserve(checked_mul(n, sizeof(T), what), what);
  return b.as<T>();
}

void synchronize(cudaStream_t stream, const char* what) { check(cudaStreamSynchronize(stream), what); }

}  // namespace

void TrainScratch::release() noexcept {
  for (DeviceBuffer* b : {&row_loss, &row_hit, &hat, &norms, &gram, &nbr, &coef, &grad_hat}) b->release();
  std::vector<double>().swap(host_loss);
  std::vector<int32_t>().swap(host_hit);
}

void* train_alloc(size_t bytes) { return bytes == 0 ? nullptr : device_alloc(bytes, "a training buffer"); }

void train_free(cudaStream_t stream, void* p) noexcept {
  if (p == nullptr) return;
  if (stream != nullptr) (void)cudaStreamSynchronize(stream);
  (void)cudaFree(p);  // errors ignored: nothing useful to do when freeing fails
  (void)cudaGetLastError();
}

void train_upload(cudaStream_t stream, void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return;
  require(dst != nullptr && host_src != nullptr, "train_upload");
  check(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream), "copying training data to the device");
  synchronize(stream, "copying training data to the device");
}

void train_download(cudaStream_t stream, void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  require(host_dst != nullptr && src != nullptr, "train_download");
  check(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream), "copying training results to the host");
  synchronize(stream, "running the training kernels");  // earlier kernel faults surface here
}

void train_sgemm(const TrainContext& c, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A,
                 const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  require(A != nullptr && B != nullptr && C != nullptr && K > 0, "train_sgemm");
  require_int(M, "sgemm M");
  require_int(N, "sgemm N");
  require_int(K, "sgemm K");
  // Row-major C (M×N) = op(A)·op(B) is column-major Cᵀ (N×M, ld N) = op(B)ᵀ·op(A)ᵀ. A row-major matrix is its own
  // transpose in column-major, so B and A keep their transpose flags; leading dimensions are their row lengths.
  using Op = Blas::Op;
  c.blas.sgemm(trans_b ? Op::T : Op::N, trans_a ? Op::T : Op::N, int(N), int(M), int(K), B, int(trans_b ? K : N), A,
               int(trans_a ? M : K), beta, C, int(N));
}

void train_bias_activation(const TrainContext& c, float* y, const float* bias, size_t rows, size_t cols, bool relu) {
  (void)checked_mul(rows, cols, "rows × cols");
  check(launch_bias_activation(y, bias, rows, cols, relu, c.stream), "launching the bias kernel");
}

void train_activation_backward(const TrainContext& c, float* dy, const float* y, size_t rows, size_t cols, bool relu,
                               float* db) {
  const size_t n = checked_mul(rows, cols, "rows × cols");
  if (relu) check(launch_relu_mask(dy, y, n, c.stream), "launching the ReLU backward kernel");
  check(launch_column_sums(dy, rows, cols, db, c.stream), "launching the bias gradient kernel");
}

void train_adamw(const TrainContext& c, float* p, const float* g, float* m, float* v, size_t n, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  if (step < 1) fail("train_adamw: step must be at least 1");
  const train_math::AdamWStep s = train_math::adamw_step(lr, beta1, beta2, eps, weight_decay, step);
  check(launch_adamw(p, g, m, v, n, s, c.stream), "launching the AdamW kernel");
}

void train_gather_rows(const TrainContext& c, const float* x, const int32_t* y, size_t rows, size_t dim,
                       const int32_t* order, size_t n, float* xb, int32_t* yb) {
  (void)checked_mul(n, dim, "batch rows × dim");
  (void)checked_mul(rows, dim, "rows × dim");
  check(launch_gather_rows(x, y, rows, dim, order, n, xb, yb, c.stream), "launching the batch gather kernel");
}

void train_add(const TrainContext& c, float* y, const float* x, size_t n) {
  check(launch_add(y, x, n, c.stream), "launching the add kernel");
}

void train_layer_norm_forward(const TrainContext& c, const float* x, const float* gamma, const float* beta, size_t rows,
                              size_t cols, bool relu, float* y, float* mean, float* rstd) {
  (void)checked_mul(rows, cols, "rows × cols");
  check(launch_layer_norm_forward(x, gamma, beta, rows, cols, relu, y, mean, rstd, c.stream),
        "launching the LayerNorm kernel");
}

void train_layer_norm_backward(const TrainContext& c, const float* x, const float* mean, const float* rstd,
                               const float* gamma, const float* y, const float* dy, size_t rows, size_t cols, bool relu,
                               float* dx, float* dgamma, float* dbeta) {
  (void)checked_mul(rows, cols, "rows × cols");
  check(launch_layer_norm_backward(x, mean, rstd, gamma, y, dy, rows, cols, relu, dx, dgamma, dbeta, c.stream),
        "launching the LayerNorm backward kernels");
}

double train_cross_entropy_ls(const TrainContext& c, const float* logits, const int32_t* y, size_t rows,
                              size_t classes, double smoothing, float* dlogits, size_t* correct) {
  (void)checked_mul(rows, classes, "rows × classes");
  TrainScratch& s = c.scratch;
  double* row_loss = scratch<double>(s.row_loss, rows, "cross-entropy row losses");
  int32_t* row_hit = scratch<int32_t>(s.row_hit, rows, "cross-entropy row hits");
  check(launch_cross_entropy_ls(logits, y, rows, classes, smoothing, dlogits, row_loss, row_hit, c.stream),
        "launching the cross-entropy kernel");
  s.host_loss.resize(rows);
  s.host_hit.resize(rows);
  train_download(c.stream, s.host_loss.data(), row_loss, rows * sizeof(double));
  train_download(c.stream, s.host_hit.data(), row_hit, rows * sizeof(int32_t));
  double total = 0;  // rows added in order, as the CPU does
  size_t hits = 0;
  for (size_t r = 0; r < rows; ++r) {
    total += s.host_loss[r];
    hits += s.host_hit[r] != 0;
  }
  if (correct != nullptr) *correct = hits;
  return total / double(rows);
}

double train_nn_entropy(const TrainContext& c, const float* e, size_t rows, size_t d, double scale, float* de) {
  if (rows < 2) fail("train_nn_entropy: needs at least 2 rows");
  require(e != nullptr && de != nullptr && d > 0, "train_nn_entropy");
  require_int(rows, "nn_entropy rows");
  require_int(d, "nn_entropy dim");
  const size_t rd = checked_mul(rows, d, "rows × dim");
  TrainScratch& s = c.scratch;
  double* hat = scratch<double>(s.hat, rd, "normalised rows");
  double* norms = scratch<double>(s.norms, rows, "row norms");
  double* gram = scratch<double>(s.gram, checked_mul(rows, rows, "rows²"), "Gram matrix of the batch");
  int32_t* nbr = scratch<int32_t>(s.nbr, rows, "nearest neighbours");
  double* coef = scratch<double>(s.coef, rows, "row coefficients");
  double* row_loss = scratch<double>(s.row_loss, rows, "entropy row losses");
  double* grad_hat = scratch<double>(s.grad_hat, rd, "gradient of the normalised rows");

  check(launch_normalize_rows(e, rows, d, hat, norms, c.stream), "launching the row normalisation kernel");
  // Row-major gram (rows×rows) = hat·hatᵀ, in float64 like the CPU so that both pick the same neighbours. Column-major
  // that is gramᵀ = hat_cmᵀ·hat_cm with hat_cm = hatᵀ (d×rows, ld d); gram is symmetric anyway.
  c.blas.dgemm(Blas::Op::T, Blas::Op::N, int(rows), int(rows), int(d), hat, int(d), hat, int(d), gram, int(rows));
  check(launch_nearest_neighbours(hat, gram, rows, d, nbr, coef, row_loss, c.stream),
        "launching the nearest-neighbour kernel");
  check(launch_nn_entropy_grad(hat, norms, nbr, coef, rows, d, scale, grad_hat, de, c.stream),
        "launching the entropy gradient kernel");
  s.host_loss.resize(rows);
  train_download(c.stream, s.host_loss.data(), row_loss, rows * sizeof(double));
  double loss = 0;
  for (size_t i = 0; i < rows; ++i) loss += s.host_loss[i];
  return loss / double(rows);
}

void train_etf_forward(const TrainContext& c, const float* e, size_t rows, size_t d, size_t h, float* hidden,
                       float* z) {
  (void)checked_mul(rows, h, "rows × projector width");
  check(launch_etf_forward(e, rows, d, h, hidden, z, c.stream), "launching the ETF projector kernel");
}

void train_etf_backward(const TrainContext& c, const float* hidden, const float* z, const float* dz, size_t rows,
                        size_t d, size_t h, float* de) {
  (void)checked_mul(rows, h, "rows × projector width");
  check(launch_etf_backward(hidden, z, dz, rows, d, h, de, c.stream), "launching the ETF projector backward kernel");
}

}  // namespace ncod::cuda
