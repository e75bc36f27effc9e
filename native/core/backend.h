// The kernels a compute backend provides. Orchestration (chunking, validation, order of reductions)
// lives in core/ and calls these, so a computation written once runs on every backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
struct ArgmaxBlock {
  size_t offset = 0;
  size_t classes = 0;             // C
  double scale = 1.0;
  const double* table = nullptr;  // C×C
  int32_t* out = nullptr;         // one index per row of the block passed to the kernel
};

// What accumulate_centred computes from the centred rows Z; every output is optional (nullptr / 0 = skip).
struct CentredRequest {
  const double* means = nullptr;        // C×d
  double* scatter = nullptr;            // d×d += ZᵀZ (full symmetric, float64)
  double* class_sq_norms = nullptr;     // C   += Σ_{y_i = c} ‖z_i‖²
  const float* basis = nullptr;         // d×p row-major: projections P = Z·basis, in float32 on centred data
  size_t basis_cols = 0;                // p
  double* projection_sq_sums = nullptr; // sq_cols += Σ_i P_ik², for the first sq_cols columns
  size_t sq_cols = 0;
  std::vector<ArgmaxBlock> argmax;      // read P's later columns
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

  // out (m×n, row-major float64) = A Bᵀ for A (m×k) and B (n×k), row-major float64. Small Gram-type products.
  virtual void gram(const double* a, size_t m, const double* b, size_t n, size_t k, double* out) = 0;
};

enum class BackendKind : int { Cpu = 0, Cuda = 1 };

struct BackendStatus {
  std::string name;
  bool available;
  std::string reason;  // why not available, or a description of the device when available
};

// The CPU backend always exists; the CUDA backend is loaded from its plugin on first use.
// Throws Error(BackendUnavailable, <reason>) when the requested backend cannot be used.
Backend& get_backend(BackendKind kind);
std::vector<BackendStatus> backend_statuses();

// Implemented in native/cpu.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace ncod
