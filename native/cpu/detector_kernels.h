// CPU kernels of the OOD detectors (Backend methods of the same names; see core/backend.h).
#pragma once

#include <memory>

#include "../core/backend.h"

namespace ncod::cpu {

void score_logits(const float* logits, size_t rows, size_t classes, const LogitScoreSpec& spec, double* out);
void linear_scores(const float* x, size_t rows, size_t dim, const LinearHead& head, const LogitScoreSpec& spec,
                   double* out);
void min_whitened_sq_distances(const float* x, size_t rows, size_t dim, const WhitenedCentres& centres, double* out);
// Throws ErrorCode::Aborted (checked per bank tile) once context's cancel flag is set.
void knn_kth_similarity(const float* queries, size_t rows, const float* bank, size_t bank_rows, size_t dim, size_t k,
                        double* out, const RunContext& context);
// The same with the bank packed once (Backend::prepare_knn_bank); `bank` must outlive the result.
std::unique_ptr<PreparedKnnBank> prepare_knn_bank(const float* bank, size_t rows, size_t dim);

}  // namespace ncod::cpu
