// The CPU backend: rows split across OpenMP threads, each with private float64 accumulators summed in a
// fixed order (reproducible for a given thread count), and single-threaded OpenBLAS calls inside.
//
// Why OpenBLAS runs single-threaded: its pthreads build shuts its thread pool down from a pthread_atfork
// handler, so a process that spawns a child (Node's child_process) while a threaded BLAS call is running on
// another thread hangs that call forever. ncod parallelises over rows itself and never uses that pool.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "../core/backend.h"
#include "../core/train_kernels.h"
#include "detector_kernels.h"
#include "parallel.h"
#include "simd.h"

namespace ncod {

TrainKernels& cpu_train_kernels();  // cpu_train_kernels.cpp

namespace {

// Below this many elements a class-statistics pass runs on one thread.
constexpr size_t kStatsMinElements = size_t(1) << 16;
// Rows centred at a time per thread (float64): a BLAS-friendly block that stays in cache.
constexpr size_t kCentredBlockBytes = size_t(2) << 20;
// With a d×d scatter, each block's syrk reads and writes the whole d×d triangle, so small blocks make that update
// dominate: at d = 2048 an 8192-row batch took 1.04 s in 128-row blocks and 0.97 s in 2048-row ones (one block per
// thread of a 4096-row chunk). Capped in bytes so that a large d does not hold huge float64 blocks per thread.
constexpr size_t kScatterBlockRows = 2048;
constexpr size_t kScatterBlockBytes = size_t(32) << 20;

// The loop is bandwidth-bound only when the float→double adds are wide: the variant of the SIMD level in use
// (simd.h) is picked at load time, while the portable one keeps prebuilt binaries running on any x86-64.
NCOD_INLINE_BODY void add_rows_to_class_sums_body(const LabelledRows& rows, size_t begin, size_t end, double* counts,
                                                  double* sums) {
  const size_t d = rows.dim;
  for (size_t i = begin; i < end; ++i) {
    const size_t c = static_cast<size_t>(rows.y[i]);
    const float* x = rows.x + i * d;
    double* s = sums + c * d;
    counts[c] += 1.0;
    for (size_t j = 0; j < d; ++j) s[j] += x[j];
  }
}
NCOD_LEVEL_VARIANTS(void, add_rows_to_class_sums, (const LabelledRows& rows, size_t begin, size_t end, double* counts, double* sums), (rows, begin, end, counts, sums))
void add_rows_to_class_sums(const LabelledRows& rows, size_t begin, size_t end, double* counts, double* sums) { return add_rows_to_class_sums_variant(rows, begin, end, counts, sums); }

// Threads worth using for `rows` rows of `dim` columns, each thread taking at least min_rows_per_thread rows.
int threads_for_rows(size_t rows, size_t dim, size_t min_rows_per_thread) {
  return cpu::threads_for(rows * dim, rows / min_rows_per_thread, kStatsMinElements);
}

// Per-thread scratch and partial results of one accumulate_centred call.
struct CentredScratch {
  CentredScratch(size_t block, size_t d, size_t p, size_t C, const CentredRequest& request)
      : z(request.scatter ? block * d : 0),
        z32(p > 0 || !request.scatter ? block * d : 0),  // also the centring target without a scatter
        projections(block * p),
        upper(request.scatter ? d * d : 0, 0.0),
        class_sq_norms(request.class_sq_norms ? C : 0, 0.0),
        projection_sq_sums(request.sq_cols, 0.0) {}
  std::vector<double> z;                   // centred rows, float64
  std::vector<float> z32;                  // the same rows in float32 for the projection product
  std::vector<float> projections;          // block × p
  std::vector<double> upper;               // partial scatter, upper triangle
  std::vector<double> class_sq_norms;      // partial Σ‖z‖² per class
  std::vector<double> projection_sq_sums;  // partial Σ P_ik²
};

void centre_rows(const LabelledRows& rows, const double* means, double* z) {
  const size_t d = rows.dim;
  for (size_t i = 0; i < rows.rows; ++i) {
    const float* x = rows.x + i * d;
    const double* mu = means + static_cast<size_t>(rows.y[i]) * d;
    double* zi = z + i * d;
    for (size_t j = 0; j < d; ++j) zi[j] = double(x[j]) - mu[j];
  }
}

void add_class_sq_norms(const LabelledRows& rows, const double* z, double* out) {
  const size_t d = rows.dim;
  for (size_t i = 0; i < rows.rows; ++i) {
    const double* zi = z + i * d;
    double s = 0;
    for (size_t j = 0; j < d; ++j) s += zi[j] * zi[j];
    out[rows.y[i]] += s;
  }
}

// out[i] = argmax_c scale·P[i, offset + c] + table[y_i·C + c]; the first maximum wins.
void argmax_rows(const LabelledRows& rows, const ArgmaxBlock& blk, const float* P, size_t p, int32_t* out) {
  const size_t C = blk.classes;
  for (size_t i = 0; i < rows.rows; ++i) {
    const double* offsets = blk.table + static_cast<size_t>(rows.y[i]) * C;
    const float* scores = P + i * p + blk.offset;
    size_t best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < C; ++c) {
      const double score = blk.scale * double(scores[c]) + offsets[c];
      if (score > best_score) {
        best_score = score;
        best = c;
      }
    }
    out[i] = static_cast<int32_t>(best);
  }
}

// Centres one row in float64 and stores it in float32 (the GEMM input); returns ‖x − μ‖². The square sum keeps
// kLanes independent partial sums, added in a fixed order at the end, so the compiler can vectorise the
// reduction (a single running sum would be a serial chain of adds) and the result does not depend on the SIMD level.
constexpr size_t kLanes = 32;
NCOD_INLINE_BODY double centre_row_into_float32_body(const float* x, const double* mu, size_t d, float* z) {
  double partial[kLanes] = {};
  size_t j = 0;
  for (; j + kLanes <= d; j += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) {
      const double v = double(x[j + l]) - mu[j + l];
      partial[l] += v * v;
      z[j + l] = static_cast<float>(v);
    }
  }
  for (size_t l = 0; j < d; ++j, ++l) {
    const double v = double(x[j]) - mu[j];
    partial[l] += v * v;
    z[j] = static_cast<float>(v);
  }
  double sq = 0;
  for (double s : partial) sq += s;
  return sq;
}
NCOD_LEVEL_VARIANTS(double, centre_row_into_float32, (const float* x, const double* mu, size_t d, float* z), (x, mu, d, z))
double centre_row_into_float32(const float* x, const double* mu, size_t d, float* z) { return centre_row_into_float32_variant(x, mu, d, z); }

// Without a scatter the float64 rows are never needed whole: centre each element in float64, add its square to
// the row's norm and store it straight into the float32 GEMM input (one pass instead of three).
void centre_into_float32(const LabelledRows& rows, const CentredRequest& request, CentredScratch& s) {
  const size_t d = rows.dim;
  for (size_t i = 0; i < rows.rows; ++i) {
    const double* mu = request.means + static_cast<size_t>(rows.y[i]) * d;
    const double sq = centre_row_into_float32(rows.x + i * d, mu, d, s.z32.data() + i * d);
    if (request.class_sq_norms) s.class_sq_norms[rows.y[i]] += sq;
  }
}

// The work of accumulate_centred on one block of rows, into one thread's scratch.
void centred_block(const LabelledRows& part, size_t first_row, const CentredRequest& request, CentredScratch& s) {
  const size_t d = part.dim, n = part.rows, p = request.basis_cols;
  if (request.scatter) {
    centre_rows(part, request.means, s.z.data());
    if (request.class_sq_norms) add_class_sq_norms(part, s.z.data(), s.class_sq_norms.data());
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(d), int(n), 1.0, s.z.data(), int(d), 1.0, s.upper.data(),
                int(d));
    // Centring happened in float64, so the float32 copy is accurate relative to ‖z‖ (no cancellation left).
    for (size_t k = 0; p > 0 && k < n * d; ++k) s.z32[k] = static_cast<float>(s.z[k]);
  } else {
    centre_into_float32(part, request, s);
  }
  if (p == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(p), int(d), 1.0f, s.z32.data(), int(d),
              request.basis, int(p), 0.0f, s.projections.data(), int(p));
  const float* P = s.projections.data();
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < request.sq_cols; ++k) {
      const double v = P[i * p + k];
      s.projection_sq_sums[k] += v * v;
    }
  }
  for (const ArgmaxBlock& blk : request.argmax) argmax_rows(part, blk, P, p, blk.out + first_row);
}

void add_into(const std::vector<double>& from, double* to) {
  for (size_t k = 0; k < from.size(); ++k) to[k] += from[k];
}

void add_symmetric_from_upper(const double* upper, size_t d, double* scatter) {
  for (size_t a = 0; a < d; ++a) {
    scatter[a * d + a] += upper[a * d + a];
    for (size_t b = a + 1; b < d; ++b) {
      scatter[a * d + b] += upper[a * d + b];
      scatter[b * d + a] += upper[a * d + b];
    }
  }
}

class CpuBackend final : public Backend {
 public:
  CpuBackend() { openblas_set_num_threads(1); }

  std::string name() const override { return "cpu"; }

  void accumulate_class_sums(const LabelledRows& rows, size_t num_classes, double* counts,
                             double* sums) override {
    const int threads = threads_for_rows(rows.rows, rows.dim, 64);
    if (threads <= 1) {
      add_rows_to_class_sums(rows, 0, rows.rows, counts, sums);
      return;
    }
    const size_t width = num_classes * (rows.dim + 1);  // sums then counts, per thread
    std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
    {
      const size_t t = static_cast<size_t>(omp_get_thread_num());
      const size_t begin = rows.rows * t / threads;
      const size_t end = rows.rows * (t + 1) / threads;
      double* mine = partial.data() + t * width;
      add_rows_to_class_sums(rows, begin, end, mine + num_classes * rows.dim, mine);
    }
    const size_t sum_len = num_classes * rows.dim;
    for (int t = 0; t < threads; ++t) {
      const double* mine = partial.data() + static_cast<size_t>(t) * width;
      for (size_t k = 0; k < sum_len; ++k) sums[k] += mine[k];
      for (size_t c = 0; c < num_classes; ++c) counts[c] += mine[sum_len + c];
    }
  }

  void accumulate_centred(const LabelledRows& rows, size_t num_classes, const CentredRequest& request) override {
    const size_t d = rows.dim;
    const size_t row_bytes = d * sizeof(double);
    const size_t block = request.scatter ? std::max<size_t>(16, std::min(kScatterBlockRows, kScatterBlockBytes / row_bytes))
                                         : std::max<size_t>(16, kCentredBlockBytes / row_bytes);
    const size_t blocks = (rows.rows + block - 1) / block;
    // At most `blocks` (floor(rows / block) of them, at least 1), and used as returned (cpu::startable_team).
    const int threads = threads_for_rows(rows.rows, d, block);
    std::vector<CentredScratch> scratch;
    scratch.reserve(threads);
    for (int t = 0; t < threads; ++t) {
      scratch.emplace_back(std::min(block, rows.rows), d, request.basis_cols, num_classes, request);
    }
    // Static schedule: thread t always gets the same blocks, so partial sums and their order are fixed.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t b = 0; b < blocks; ++b) {
      const size_t start = b * block;
      const LabelledRows part{rows.x + start * d, rows.y + start, std::min(block, rows.rows - start), d};
      centred_block(part, start, request, scratch[omp_get_thread_num()]);
    }
    for (const CentredScratch& s : scratch) {
      if (request.scatter) add_symmetric_from_upper(s.upper.data(), d, request.scatter);
      if (request.class_sq_norms) add_into(s.class_sq_norms, request.class_sq_norms);
      add_into(s.projection_sq_sums, request.projection_sq_sums);
    }
  }

  TrainKernels* train_kernels() override { return &cpu_train_kernels(); }

  void gram(const double* a, size_t m, const double* b, size_t n, size_t k, double* out) override {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.0, a, int(k), b, int(k), 0.0, out,
                int(n));
  }

  void score_logits(const float* logits, size_t rows, size_t classes, const LogitScoreSpec& spec,
                    double* out) override {
    cpu::score_logits(logits, rows, classes, spec, out);
  }
  void linear_scores(const float* x, size_t rows, size_t dim, const LinearHead& head, const LogitScoreSpec& spec,
                     double* out) override {
    cpu::linear_scores(x, rows, dim, head, spec, out);
  }
  void min_whitened_sq_distances(const float* x, size_t rows, size_t dim, const WhitenedCentres& centres,
                                 double* out) override {
    cpu::min_whitened_sq_distances(x, rows, dim, centres, out);
  }
  void knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows, size_t dim,
                          size_t k, double* out, const RunContext& context) override {
    cpu::knn_kth_similarity(queries, rows, bank, bank_rows, dim, k, out, context);
  }
  std::unique_ptr<PreparedKnnBank> prepare_knn_bank(const float* bank, size_t bank_rows, size_t dim) override {
    return cpu::prepare_knn_bank(bank, bank_rows, dim);
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace ncod
