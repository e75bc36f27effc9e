// Argument checks shared by every entry point. Each throws ncod::Error with an "expected X, got Y" message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ncod {

// rows and dim describe a rows×dim matrix held in `length` elements.
void check_matrix_length(const char* what, size_t length, size_t rows, size_t dim);
void check_positive(const char* what, double value);
// Every label lies in [0, num_classes).
void check_labels(const int32_t* labels, size_t n, size_t num_classes, const char* what = "labels");
// One label per row.
void check_label_count(size_t labels, size_t rows);
// First non-finite element, reported as (row, column) of a rows×dim matrix.
void check_finite(const char* what, const float* x, size_t rows, size_t dim);
void check_finite(const char* what, const double* x, size_t rows, size_t dim);

}  // namespace ncod
