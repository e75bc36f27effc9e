// The centred pass (accumulate_centred): one pass over rows centred at their class means that accumulates the
// scatter ZᵀZ, per-class squared norms, squared sums of projections P = Z·basis and argmax tables of P. Kernels are
// in kernels.cu; the products run on cuBLAS.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "entry_points.h"
#include "kernels.cuh"
#include "plugin_state.h"
#include "transfers.h"

namespace ncod::cuda {
namespace {

// What one call computes and its sizes, all checked before any device work.
struct CentredPlan {
  size_t rows = 0, d = 0, num_classes = 0, p = 0, num_argmax = 0;
  bool want_scatter = false, want_norms = false, want_proj = false, want_z = false;
  size_t cd = 0, dd = 0, dp = 0, norms_n = 0, sq_n = 0, table_elems = 0, chunk_rows = 0;
  size_t table_offsets[NCOD_CUDA_MAX_ARGMAX] = {};
};

// Checks the request alone, so misuse shows up on any input (before the empty-input shortcut); fills the outputs'
// switches and the argmax tables' layout.
void check_request(const ncod_cuda_centred_request& r, CentredPlan& c) {
  c.p = r.outputs.basis_cols;
  c.num_argmax = r.num_argmax;
  if (c.num_argmax > NCOD_CUDA_MAX_ARGMAX)
    fail("accumulate_centred: num_argmax " + std::to_string(c.num_argmax) + " exceeds " +
         std::to_string(NCOD_CUDA_MAX_ARGMAX));
  if (r.outputs.sq_cols > c.p) fail("accumulate_centred: sq_cols exceeds basis_cols");
  if (r.outputs.sq_cols > 0 && r.outputs.projection_sq_sums == nullptr)
    fail("accumulate_centred: null projection_sq_sums");
  for (size_t k = 0; k < c.num_argmax; ++k) {
    const ncod_cuda_argmax& a = r.argmax[k];
    const std::string which = "accumulate_centred: argmax[" + std::to_string(k) + "]";
    if (a.classes == 0) fail(which + ": classes must be positive");
    if (a.classes > static_cast<size_t>(INT32_MAX)) fail(which + ": too many classes for int32 output");
    if (a.offset > c.p || a.classes > c.p - a.offset) fail(which + ": offset + classes exceeds basis_cols");
    if (a.table == nullptr || a.out == nullptr) fail(which + ": null table or out");
    c.table_offsets[k] = c.table_elems;
    c.table_elems = checked_add(c.table_elems, checked_mul(a.classes, a.classes, "argmax classes²"), "argmax tables");
  }
  c.want_scatter = r.outputs.scatter != nullptr;
  c.want_norms = r.outputs.class_sq_norms != nullptr;
  c.want_proj = r.outputs.sq_cols > 0 || c.num_argmax > 0;  // both imply p > 0
  c.want_z = c.want_scatter || c.want_norms;
  if (c.want_proj && r.outputs.basis == nullptr) fail("accumulate_centred: null basis");
}

// Checks the inputs and sizes the outputs and chunks; false when there is nothing to add or write.
bool plan_centred(const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                  const ncod_cuda_centred_request& r, CentredPlan& c) {
  check_request(r, c);
  if (rows == 0 || !(c.want_z || c.want_proj)) return false;
  if (d == 0) fail("accumulate_centred: d must be positive");
  if (num_classes == 0) fail("accumulate_centred: num_classes must be positive when rows > 0");
  if (x == nullptr || y == nullptr || r.outputs.means == nullptr)
    fail("accumulate_centred: null x, y or means pointer");
  if (d > static_cast<size_t>(INT_MAX) || c.p > static_cast<size_t>(INT_MAX))
    fail("accumulate_centred: d or basis_cols exceeds the cuBLAS int limit");
  c.rows = rows;
  c.d = d;
  c.num_classes = num_classes;
  (void)checked_mul(rows, d, "rows × d");
  c.cd = checked_mul(num_classes, d, "num_classes × d");
  (void)checked_mul(c.cd, sizeof(double), "num_classes × d");
  c.dd = c.want_scatter ? checked_mul(d, d, "d × d") : 0;
  c.dp = c.want_proj ? checked_mul(d, c.p, "d × basis_cols") : 0;
  c.norms_n = c.want_norms ? num_classes : 0;
  c.sq_n = r.outputs.sq_cols;
  (void)checked_mul(checked_add(checked_add(c.dd, c.norms_n, "outputs"), c.sq_n, "outputs"), sizeof(double),
                    "outputs");
  (void)checked_mul(c.table_elems, sizeof(double), "argmax tables");

  // Device bytes per row of a chunk; every term is <= 12·max(d, p) + 20, no overflow for d, p <= INT_MAX.
  size_t row_bytes = d * sizeof(float) + sizeof(int32_t);
  if (c.want_z) row_bytes += d * sizeof(double);
  if (c.want_proj) row_bytes += d * sizeof(float) + c.p * sizeof(float) + c.num_argmax * sizeof(int32_t);
  c.chunk_rows = std::min({rows, std::max<size_t>(1, kCentredChunkBytes / row_bytes), static_cast<size_t>(INT_MAX)});
  return true;
}

void reserve_centred(State& s, const CentredPlan& c) {
  const size_t n = c.chunk_rows, d = c.d;
  s.x.reserve(n * d * sizeof(float), "x chunk");
  s.y.reserve(n * sizeof(int32_t), "y chunk");
  s.means.reserve(c.cd * sizeof(double), "class means");
  if (c.want_z) s.z.reserve(n * d * sizeof(double), "centred chunk z");
  if (c.want_scatter) s.scatter.reserve(c.dd * sizeof(double), "scatter matrix");
  if (c.want_norms) s.norms.reserve(c.num_classes * sizeof(double), "class squared norms");
  if (c.want_proj) {
    s.basis.reserve(c.dp * sizeof(float), "projection basis");
    s.z32.reserve(n * d * sizeof(float), "float32 centred chunk");
    s.proj.reserve(n * c.p * sizeof(float), "projections");
  }
  if (c.sq_n > 0) s.sq_sums.reserve(c.sq_n * sizeof(double), "projection squared sums");
  if (c.num_argmax > 0) {
    s.tables.reserve(c.table_elems * sizeof(double), "argmax tables");
    s.argmax_out.reserve(c.num_argmax * n * sizeof(int32_t), "argmax outputs");
  }
}

// Uploads the per-call inputs and prepares the accumulators.
void start_centred(State& s, const ncod_cuda_centred_request& r, const CentredPlan& c) {
  const cudaStream_t st = s.stream;
  copy_to_device(s.means.as<void>(), r.outputs.means, c.cd * sizeof(double), st,
                 "copying the class means to the device");
  if (c.want_proj)
    copy_to_device(s.basis.as<void>(), r.outputs.basis, c.dp * sizeof(float), st, "copying the basis to the device");
  for (size_t k = 0; k < c.num_argmax; ++k)
    copy_to_device(s.tables.as<double>() + c.table_offsets[k], r.argmax[k].table,
                   r.argmax[k].classes * r.argmax[k].classes * sizeof(double), st,
                   "copying an argmax table to the device");
  // Accumulators: atomics need zeros; the scatter is written by a first dsyrk with beta = 0 (C not read), so it is
  // poisoned instead, which checks that dsyrk + symmetrize write every element.
  if (c.want_norms)
    check(cudaMemsetAsync(s.norms.as<void>(), 0, c.num_classes * sizeof(double), st), "cudaMemsetAsync(norms)");
  if (c.sq_n > 0)
    check(cudaMemsetAsync(s.sq_sums.as<void>(), 0, c.sq_n * sizeof(double), st), "cudaMemsetAsync(squared sums)");
  if (c.want_scatter) poison(s.scatter.as<double>(), c.dd, st, "poisoning the scatter buffer");
}

// Projections of one chunk's float32 centred rows, their squared sums and argmax outputs (written to the caller).
void project_chunk(State& s, const ncod_cuda_centred_request& r, const CentredPlan& c, size_t start, size_t n) {
  const cudaStream_t st = s.stream;
  // Row-major P (n×p) = Z32 (n×d) · basis (d×p). Column-major that is Pᵀ (p×n, ld p) = basisᵀ (p×d, ld p) ·
  // Z32ᵀ (d×n, ld d): no transposes, the row-major buffers are used as they are.
  float* P = s.proj.as<float>();
  poison_bytes(P, n * c.p * sizeof(float), st, "poisoning the projections");
  s.blas.sgemm(Blas::Op::N, Blas::Op::N, int(c.p), int(n), int(c.d), s.basis.as<const float>(), int(c.p),
               s.z32.as<const float>(), int(c.d), P, int(c.p));
  if (c.sq_n > 0)
    check(launch_column_sq_sums(P, n, c.p, c.sq_n, s.sq_sums.as<double>(), st),
          "launching the projection squared-sums kernel");
  for (size_t k = 0; k < c.num_argmax; ++k) {
    const ncod_cuda_argmax& a = r.argmax[k];
    int32_t* out = s.argmax_out.as<int32_t>() + k * c.chunk_rows;
    poison_bytes(out, n * sizeof(int32_t), st, "poisoning the argmax output");
    check(launch_argmax_rows(P, n, c.p, a.offset, a.classes, a.scale, s.tables.as<const double>() + c.table_offsets[k],
                             s.y.as<const int32_t>(), out, st),
          "launching the argmax kernel");
    // Written, not added: straight into the caller's array (out is indexed by row within the call).
    copy_to_host(a.out + start, out, n * sizeof(int32_t), st, "copying argmax results to the host");
  }
}

// Rows [start, start + n): centre them, then add their norms, scatter and projections.
void centred_chunk(State& s, const float* x, const int32_t* y, const ncod_cuda_centred_request& r,
                   const CentredPlan& c, size_t start, size_t n) {
  const cudaStream_t st = s.stream;
  const size_t d = c.d;
  copy_to_device(s.x.as<void>(), x + start * d, n * d * sizeof(float), st, "copying x to the device");
  copy_to_device(s.y.as<void>(), y + start, n * sizeof(int32_t), st, "copying y to the device");
  double* z = c.want_z ? s.z.as<double>() : nullptr;
  float* z32 = c.want_proj ? s.z32.as<float>() : nullptr;
  if (c.want_z) poison(z, n * d, st, "poisoning the centred chunk");
  if (c.want_proj) poison_bytes(z32, n * d * sizeof(float), st, "poisoning the float32 centred chunk");
  check(launch_center_rows(s.x.as<const float>(), s.y.as<const int32_t>(), s.means.as<const double>(), n, d,
                           c.num_classes, z, z32, st),
        "launching the centring kernel");
  if (c.want_norms)
    check(launch_class_sq_norms(z, s.y.as<const int32_t>(), n, d, c.num_classes, s.norms.as<double>(), st),
          "launching the class-norms kernel");
  if (c.want_scatter) {
    // Row-major z (n×d) is column-major d×n with leading dimension d: upper(S) (+)= zᵀz; the first chunk writes it.
    s.blas.dsyrk_accumulate(int(d), int(n), z, int(d), start == 0 ? 0.0 : 1.0, s.scatter.as<double>(), int(d));
  }
  if (c.want_proj) project_chunk(s, r, c, start, n);
}

// Copies the accumulated outputs back and adds them into the caller's arrays.
void finish_centred(State& s, const ncod_cuda_centred_request& r, const CentredPlan& c) {
  const cudaStream_t st = s.stream;
  // dsyrk wrote the upper triangle of the column-major matrix; mirror it so the host gets the full matrix.
  if (c.want_scatter)
    check(launch_symmetrize_upper(s.scatter.as<double>(), c.d, st), "launching the symmetrize kernel");
  const size_t dd = c.dd, norms_n = c.norms_n, sq_n = c.sq_n;
  s.host_stage.resize(dd + norms_n + sq_n);
  double* h = s.host_stage.data();
  if (c.want_scatter)
    copy_to_host(h, s.scatter.as<const void>(), dd * sizeof(double), st, "copying the scatter matrix to the host");
  if (c.want_norms)
    copy_to_host(h + dd, s.norms.as<const void>(), norms_n * sizeof(double), st, "copying class norms to the host");
  if (sq_n > 0)
    copy_to_host(h + dd + norms_n, s.sq_sums.as<const void>(), sq_n * sizeof(double), st,
                 "copying projection squared sums to the host");
  check(cudaStreamSynchronize(st), "running the centred-pass kernels");  // kernel and cuBLAS faults surface here

  // The scatter is symmetric, so row-major and column-major read the same.
  for (size_t k = 0; k < dd; ++k) r.outputs.scatter[k] += h[k];
  for (size_t k = 0; k < norms_n; ++k) r.outputs.class_sq_norms[k] += h[dd + k];
  for (size_t k = 0; k < sq_n; ++k) r.outputs.projection_sq_sums[k] += h[dd + norms_n + k];
}

void centred_locked(State& s, const float* x, const int32_t* y, size_t rows, size_t d, size_t num_classes,
                    const ncod_cuda_centred_request* request) {
  if (request == nullptr) fail("accumulate_centred: null request");
  CentredPlan plan;
  if (!plan_centred(x, y, rows, d, num_classes, *request, plan)) return;
  init_locked(s);
  reserve_centred(s, plan);
  start_centred(s, *request, plan);
  for (size_t start = 0; start < rows; start += plan.chunk_rows)
    centred_chunk(s, x, y, *request, plan, start, std::min(plan.chunk_rows, rows - start));
  finish_centred(s, *request, plan);
}

}  // namespace
}  // namespace ncod::cuda

extern "C" int ncod_cuda_accumulate_centred(const float* x, const int32_t* y, size_t rows, size_t d,
                                            size_t num_classes, const ncod_cuda_centred_request* request, char* err,
                                            size_t errlen) {
  return ncod::cuda::guarded(err, errlen, [&](ncod::cuda::State& s) {
    ncod::cuda::centred_locked(s, x, y, rows, d, num_classes, request);
  });
}
