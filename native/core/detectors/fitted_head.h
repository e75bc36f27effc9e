// A linear head z = clip(x) Wᵀ + b as a fitted detector holds it (binding: LinearHead, native/binding/
// linear_head_binding.cpp): W, b copied once and checked once, prepared once per backend (Backend::
// prepare_linear_head: CUDA keeps W and b on the device) for every score of every detector that reads logits through
// a head: energy/MSP/MaxLogit/GEN/entropy from features, ReAct (the clip is the head's), fDBD/NCI, ViM/NECO.
// Immutable once made, so concurrent scores share it.
#pragma once

#include <cstddef>
#include <vector>

#include "../backend.h"
#include "prepared_slots.h"

namespace ncod {

class FittedHead {
 public:
  // weights C×dim, bias C or null; clip > −inf and not NaN (+inf for none). Checks shapes (dim, C >= 1) and
  // finiteness (ERR_SHAPE / ERR_NOT_FINITE / ERR_INVALID_ARGUMENT).
  FittedHead(const float* weights, const float* bias, size_t classes, size_t dim, float clip);

  size_t dim() const { return dim_; }
  size_t classes() const { return head_.classes; }
  const LinearHead& head() const { return head_; }  // points into this object
  size_t bytes() const { return (weights_.capacity() + bias_.capacity()) * sizeof(float); }

  PreparedLinearHead& prepared(BackendKind kind);
  // fDBD's table 1/‖w_a − w_c‖ (C×C, zero diagonal; ERR_INVALID_ARGUMENT for equal rows), computed on the first
  // fDBD score with that backend's Gram kernel and kept, here and by the backend's prepared head (CUDA: on the device).
  const std::vector<double>& inverse_pair_distances(BackendKind kind);

 private:
  size_t dim_;
  std::vector<float> weights_, bias_;
  LinearHead head_;
  PreparedSlots<PreparedLinearHead> prepared_;
  std::mutex table_mutex_;
  std::vector<double> tables_[kBackendKinds];
};

// out[i] = score of the head's logits for x (rows×dim float32, checked finite), in row chunks.
std::vector<double> head_scores(BackendKind backend, const float* x, size_t rows, FittedHead& head,
                                const LogitScoreSpec& spec, const RunContext& context);

}  // namespace ncod
