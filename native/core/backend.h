// The kernels a compute backend provides. Orchestration (chunking, validation, order of reductions)
// lives in core/ and calls these, so a computation written once runs on every backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../cuda/ncod_cuda_abi.h"  // plain C: the structs the CUDA plugin's ABI shares with core, defined there once
#include "run_context.h"

namespace ncod {

// A contiguous block of rows: x is rows×dim float32 row-major, y holds one label per row.
struct LabelledRows {
  const float* x;
  const int32_t* y;
  size_t rows;
  size_t dim;
};

// For one row block, an argmax over C consecutive projection columns with a per-label offset table:
// out[i] = argmax_c  scale · P[i, offset + c] + table[y_i·C + c]   (P = Z·basis, see CentredRequest).
// `out` is indexed by row within the whole call (the kernel adds its own block offsets).
// Fields {offset, classes (C), scale, table (C×C), out (one index per row of the block passed to the kernel)}.
using ArgmaxBlock = ncod_cuda_argmax;

// What accumulate_centred computes from the centred rows Z; every output is optional (nullptr / 0 = skip). The
// outputs are ncod_cuda_centred_outputs' fields (zeroed here): means (C×d); scatter (d×d += ZᵀZ, full symmetric,
// float64); class_sq_norms (C += Σ_{y_i = c} ‖z_i‖²); basis (d×p row-major: projections P = Z·basis, in float32 on
// centred data) and basis_cols (p); projection_sq_sums (sq_cols += Σ_i P_ik², for the first sq_cols columns).
struct CentredRequest : ncod_cuda_centred_outputs {
  CentredRequest() : ncod_cuda_centred_outputs{} {}
  std::vector<ArgmaxBlock> argmax;  // read P's later columns
};

// Row-wise scores of logits (detectors.h documents each). GEN uses gamma and the top `top` probabilities; Entropy is
// −H(softmax(z/T)). Kinds 0..4 are public (binding.d.ts LogitScoreId); two more kinds read a per-class table and the row's argmax ŷ (first maximum):
//   FdbdSum:      Σ_{c≠ŷ} (z_ŷ − z_c)·table[ŷ·C + c] / (C − 1)   (table: 1/‖w_a − w_c‖, zero diagonal)
//   ArgmaxOffset: z_ŷ − table[ŷ]
enum class LogitScore : int { Msp = 0, MaxLogit = 1, Energy = 2, Gen = 3, Entropy = 4, FdbdSum = 5, ArgmaxOffset = 6 };
constexpr int kPublicLogitScores = 5;  // Msp..Entropy: the kinds the binding accepts
// Laid out as the plugin ABI's ncod_cuda_logit_spec (core/cuda_plugin.cpp static_asserts it), with an enum for kind.
struct LogitScoreSpec {
  LogitScore kind = LogitScore::Energy;
  double temperature = 1.0;      // Energy, Entropy
  double gamma = 0.1;            // GEN
  size_t top = 0;                // GEN: M, 1 <= M <= C
  const double* table = nullptr; // FdbdSum (C×C), ArgmaxOffset (C)
};

// A linear head z = clip(x) Wᵀ + b: W is C×d float32, bias C float32 or null; clip = +inf for none (ReAct).
struct LinearHead {
  const float* weights = nullptr;
  const float* bias = nullptr;
  size_t classes = 0;
  float clip = 0;
};

// Centres in a whitened space: y = L (x − shift), distances ‖y − centre_c‖². float64 throughout.
struct WhitenedCentres {
  const double* shift = nullptr;      // d
  const double* whitening = nullptr;  // p×d row-major (L)
  size_t dims = 0;                    // p
  const double* centres = nullptr;    // C×p row-major (already whitened)
  size_t count = 0;                   // C
  bool upper_triangular = false;      // p = d and L is upper triangular: y costs half a GEMM
};


// A KNN bank (rows×dim float32, already L2-normalised) prepared once for many query batches: whatever a backend
// derives from the bank alone (the CPU's bfloat16 packing and bound on the row norms) is computed here and not per
// call. The bank is borrowed: its owner (core/detectors/knn_bank.h) keeps it alive and unchanged while this exists.
class PreparedKnnBank {
 public:
  virtual ~PreparedKnnBank() = default;
  // out[i] = the k-th largest similarity of query row i (as Backend::knn_kth_similarity).
  virtual void kth_similarity(const float* queries, size_t rows, size_t k, double* out,
                              const RunContext& context) = 0;
};

// A linear head prepared once for many row batches (CUDA: W and b kept on the device). The head's arrays are
// borrowed: its owner keeps them alive and unchanged while this exists.
class PreparedLinearHead {
 public:
  virtual ~PreparedLinearHead() = default;
  // out[i] = score of the logits clip(x_i) Wᵀ + b (as Backend::linear_scores; x is rows×dim float32).
  virtual void scores(const float* x, size_t rows, const LogitScoreSpec& spec, double* out) = 0;
  // Keeps fDBD's C×C table (LogitScore::FdbdSum) with the head: later scores whose spec.table is this pointer may
  // read the kept copy (CUDA: on the device, so a batch no longer sends it). The caller keeps the table alive and
  // unchanged for the prepared head's lifetime. The CPU reads the host table directly and keeps nothing.
  virtual void keep_pair_table(const double* table, size_t length) {
    (void)table;
    (void)length;
  }
};

// Whitened centres prepared once for many row batches (CUDA: shift, L and the centres kept on the device). Borrowed
// like PreparedLinearHead.
class PreparedWhitenedCentres {
 public:
  virtual ~PreparedWhitenedCentres() = default;
  // out[i] = min_c ‖L (x_i − shift) − centre_c‖² (as Backend::min_whitened_sq_distances).
  virtual void min_sq_distances(const float* x, size_t rows, double* out) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // counts[c] += #{i : y_i = c};  sums[c·d + j] += x_ij for y_i = c.   (float64 outputs, C and C×d)
  virtual void accumulate_class_sums(const LabelledRows& rows, size_t num_classes, double* counts,
                                     double* sums) = 0;

  // One pass over rows centred at their class means, z_i = x_i − means[y_i], with the outputs the request
  // asks for (see CentredRequest). This is the second pass of every class-conditional statistic.
  virtual void accumulate_centred(const LabelledRows& rows, size_t num_classes, const CentredRequest& request) = 0;

  // The training kernels, or nullptr when this backend cannot train (yet).
  virtual class TrainKernels* train_kernels() { return nullptr; }

  // The kernels declared in NCOD_CUDA_BACKEND_KERNELS (cuda/ncod_cuda_abi.h), one pure virtual method each:
  //   gram(a, m, b, n, k, out): out (m×n) = A Bᵀ for row-major float64 A (m×k) and B (n×k); small Gram-type products.
#define NCOD_BACKEND_KERNEL_METHOD(X, name, params, args, doc) virtual void name params = 0;
  NCOD_CUDA_BACKEND_KERNELS(NCOD_BACKEND_KERNEL_METHOD, _)
#undef NCOD_BACKEND_KERNEL_METHOD

  // ---- OOD detector kernels. Inputs are validated (finite, shapes) by core/detectors/; out is written.

  // out[i] = score of logits row i (rows×C float32); NaN exactly when the row holds a NaN or ±inf. Unlike the other
  // kernels' inputs, the logits are not checked beforehand: the scores say where to look.
  virtual void score_logits(const float* logits, size_t rows, size_t classes, const LogitScoreSpec& spec,
                            double* out) = 0;

  // out[i] = score of the logits clip(x_i) Wᵀ + b, computed in row blocks (never rows×C at once).
  virtual void linear_scores(const float* x, size_t rows, size_t dim, const LinearHead& head,
                             const LogitScoreSpec& spec, double* out) = 0;

  // out[i] = min_c ‖L (x_i − shift) − centre_c‖²  (x: rows×dim float32).
  virtual void min_whitened_sq_distances(const float* x, size_t rows, size_t dim, const WhitenedCentres& centres,
                                         double* out) = 0;

  // out[i] = the k-th largest dot product of query row i with the bank rows (both rows×dim float32; the caller
  // L2-normalises both, so these are cosine similarities). Exact up to float32 rounding: the CPU recomputes the
  // few rows that can be among the k largest in float64 (cpu/knn.cpp), the CUDA plugin keeps a top-k buffer over
  // float32 GEMM tiles. `context`'s cancel flag is checked per bank tile on the CPU (a query chunk against a large
  // bank can take seconds); the CUDA plugin's C ABI has no flag, so there the caller's per-chunk check is all.
  virtual void knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows,
                                  size_t dim, size_t k, double* out, const RunContext& context) = 0;

  // The bank prepared for repeated scoring. The default prepares nothing and calls knn_kth_similarity per batch;
  // a backend overrides it to do the per-bank work once (the CPU packs the bank; CUDA keeps it on the device).
  virtual std::unique_ptr<PreparedKnnBank> prepare_knn_bank(const float* bank, size_t bank_rows, size_t dim);

  // The head and the whitened centres prepared for repeated scoring, as prepare_knn_bank. The defaults prepare
  // nothing and call linear_scores / min_whitened_sq_distances per batch (the CPU reads host memory anyway); CUDA
  // uploads them once.
  virtual std::unique_ptr<PreparedLinearHead> prepare_linear_head(const LinearHead& head, size_t dim);
  virtual std::unique_ptr<PreparedWhitenedCentres> prepare_whitened_centres(const WhitenedCentres& centres,
                                                                            size_t dim);
};

namespace detail {
class UnpreparedKnnBank final : public PreparedKnnBank {
 public:
  UnpreparedKnnBank(Backend& backend, const float* bank, size_t rows, size_t dim)
      : backend_(backend), bank_(bank), rows_(rows), dim_(dim) {}
  void kth_similarity(const float* queries, size_t rows, size_t k, double* out, const RunContext& context) override {
    backend_.knn_kth_similarity(queries, rows, bank_, rows_, dim_, k, out, context);
  }

 private:
  Backend& backend_;
  const float* bank_;
  size_t rows_, dim_;
};

class UnpreparedLinearHead final : public PreparedLinearHead {
 public:
  UnpreparedLinearHead(Backend& backend, const LinearHead& head, size_t dim) : backend_(backend), head_(head), dim_(dim) {}
  void scores(const float* x, size_t rows, const LogitScoreSpec& spec, double* out) override {
    backend_.linear_scores(x, rows, dim_, head_, spec, out);
  }

 private:
  Backend& backend_;
  LinearHead head_;
  size_t dim_;
};

class UnpreparedWhitenedCentres final : public PreparedWhitenedCentres {
 public:
  UnpreparedWhitenedCentres(Backend& backend, const WhitenedCentres& centres, size_t dim)
      : backend_(backend), centres_(centres), dim_(dim) {}
  void min_sq_distances(const float* x, size_t rows, double* out) override {
    backend_.min_whitened_sq_distances(x, rows, dim_, centres_, out);
  }

 private:
  Backend& backend_;
  WhitenedCentres centres_;
  size_t dim_;
};
}  // namespace detail

inline std::unique_ptr<PreparedKnnBank> Backend::prepare_knn_bank(const float* bank, size_t bank_rows, size_t dim) {
  return std::make_unique<detail::UnpreparedKnnBank>(*this, bank, bank_rows, dim);
}
inline std::unique_ptr<PreparedLinearHead> Backend::prepare_linear_head(const LinearHead& head, size_t dim) {
  return std::make_unique<detail::UnpreparedLinearHead>(*this, head, dim);
}
inline std::unique_ptr<PreparedWhitenedCentres> Backend::prepare_whitened_centres(const WhitenedCentres& centres,
                                                                                  size_t dim) {
  return std::make_unique<detail::UnpreparedWhitenedCentres>(*this, centres, dim);
}

// The backend registry (backends.cpp): one table of {kind, name, loader}; every lookup below reads it. Adding a
// backend is one enum value here and one table entry there (a static_assert keeps the two in the same order).
enum class BackendKind : int { Cpu = 0, Cuda = 1 };

struct BackendStatus {
  std::string name;
  bool available;
  std::string reason;  // why not available, or a description of the device when available
};

// The backend a registry entry names; throws Error(InvalidArgument, "<what>: expected <backend_name_list()>, got
// '<name>'") for any other name.
BackendKind backend_named(const std::string& name, const std::string& what);
// The registered names in table order, for messages ("'cpu' or 'cuda'").
std::string backend_name_list();

// Each backend is loaded once, on first use (the CPU backend always loads; the CUDA backend from its plugin).
// Throws Error(BackendUnavailable, <reason>) when the requested backend cannot be used.
Backend& get_backend(BackendKind kind);
// The backend's training kernels; throws Error(BackendUnavailable) like get_backend, or when it has none.
class TrainKernels& get_train_kernels(BackendKind kind);
// Every registered backend, in table order, with whether it loads (loading each one that has not been tried yet).
std::vector<BackendStatus> backend_statuses();

// Implemented in native/cpu.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace ncod
