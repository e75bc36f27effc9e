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

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // counts[c] += #{i : y_i = c};  sums[c·d + j] += x_ij for y_i = c.   (float64 outputs, C and C×d)
  virtual void accumulate_class_sums(const LabelledRows& rows, size_t num_classes, double* counts,
                                     double* sums) = 0;

  // scatter += Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ, a full symmetric d×d float64 matrix.
  virtual void accumulate_within_scatter(const LabelledRows& rows, size_t num_classes, const double* means,
                                         double* scatter) = 0;
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
