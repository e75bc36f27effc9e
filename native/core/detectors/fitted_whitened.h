// Whitened centres as a fitted detector holds them (binding: WhitenedCentres, native/binding/
// whitened_centres_binding.cpp): a WhitenedModel (Mahalanobis class centres, the relative background, ViM/Residual/
// NECO projections) copied once, checked once and prepared once per backend (Backend::prepare_whitened_centres: CUDA
// keeps shift, L and the centres on the device). Immutable once made, so concurrent scores share it.
#pragma once

#include <cstddef>

#include "../backend.h"
#include "../detectors.h"
#include "prepared_slots.h"

namespace ncod {

class FittedWhitened {
 public:
  // Checks the lengths (dim, dims, count >= 1; shift d, whitening dims×d, centres count×dims) and finiteness.
  explicit FittedWhitened(WhitenedModel model);

  size_t dim() const { return model_.dim; }
  const WhitenedModel& model() const { return model_; }
  size_t bytes() const {
    return (model_.shift.capacity() + model_.whitening.capacity() + model_.centres.capacity()) * sizeof(double);
  }

  PreparedWhitenedCentres& prepared(BackendKind kind);

 private:
  WhitenedModel model_;
  WhitenedCentres view_;  // into model_
  PreparedSlots<PreparedWhitenedCentres> prepared_;
};

}  // namespace ncod
