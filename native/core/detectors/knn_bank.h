// A fitted KNN detector's state in native memory: the L2-normalised fit rows, appended batch by batch (so no single
// JS array ever holds a bank of any size) and prepared once per backend for scoring (Backend::prepare_knn_bank: the
// CPU packs the bank once, not per query chunk). Thread-safe: scores share the bank, an append waits for them and
// drops the prepared state.
#pragma once

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "../backend.h"
#include "../run_context.h"
#include "prepared_slots.h"

namespace ncod {

class KnnBank {
 public:
  explicit KnnBank(size_t dim);  // dim >= 1 (ERR_SHAPE)

  size_t dim() const { return dim_; }
  size_t rows() const;
  size_t bytes() const;  // the bank's memory, for AdjustExternalMemory

  // Checks x (rows×dim float32) finite, then appends its rows scaled to unit norm (l2_normalised's rounding), or
  // as they are without normalise: a bank saved after its fit is already normalised, and normalising a float32 row
  // twice can move its last bits (a saved-and-loaded detector must save the same bytes again).
  void append(const float* x, size_t rows, bool normalise, const RunContext& context);
  // Room for `rows` more rows, allocated at once: appends up to that total then never reallocate, so a bank streamed
  // from a file whose row count is known peaks at its own size instead of twice it (a vector's growth copies).
  void reserve(size_t rows);

  // The one check of k: 1 <= k <= rows() (ERR_INVALID_ARGUMENT).
  void check_k(size_t k) const;

  // The k-th largest cosine similarity of each query row (rows×dim, checked finite, normalised per chunk).
  std::vector<double> scores(BackendKind backend, const float* x, size_t rows, size_t k, const RunContext& context);

  // Rows [start, start + count) of the normalised bank into out (count×dim), for saving it piece by piece.
  void copy_rows(size_t start, size_t count, float* out) const;
  // ERR_INVALID_ARGUMENT unless [start, start + count) lies within the bank's rows (before allocating for a copy).
  void check_range(size_t start, size_t count) const;

 private:
  size_t dim_;
  mutable std::shared_mutex bank_mutex_;  // shared while scoring or copying, exclusive while appending
  std::vector<float> data_;
  PreparedSlots<PreparedKnnBank> prepared_;  // built by the first score after an append
};

}  // namespace ncod
