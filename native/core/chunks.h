// Streams row blocks through a kernel: bounded chunks for prompt cancellation, steady progress, and
// transfers that fit on a device.
#pragma once

#include <algorithm>
#include <cstddef>

#include "backend.h"
#include "run_context.h"

namespace ncod {

// Large enough to amortise kernel launches and transfers, small enough for prompt cancellation.
constexpr size_t kChunkBytes = size_t(32) << 20;

// Rows per chunk so that a chunk of float32 rows stays near `bytes`; at least one row.
inline size_t rows_per_chunk(size_t dim, size_t bytes) {
  return std::max<size_t>(1, bytes / (std::max<size_t>(dim, 1) * sizeof(float)));
}

// Calls fn(first_row, rows) over consecutive bounded chunks of a rows×dim float32 matrix, checking for
// cancellation before each and reporting progress linearly from progress_from to progress_to.
template <typename Fn>
void for_each_row_range(size_t rows, size_t dim, const RunContext& context, double progress_from, double progress_to,
                        Fn&& fn) {
  const size_t step = rows_per_chunk(dim, kChunkBytes);
  for (size_t start = 0; start < rows; start += step) {
    context.throw_if_cancelled();
    const size_t n = std::min(step, rows - start);
    fn(start, n);
    context.progress(progress_from + (progress_to - progress_from) * double(start + n) / double(rows));
  }
}

// The same over labelled rows: fn(chunk, first_row).
template <typename Fn>
void for_each_chunk(const LabelledRows& data, const RunContext& context, double progress_from, double progress_to,
                    Fn&& fn) {
  for_each_row_range(data.rows, data.dim, context, progress_from, progress_to, [&](size_t start, size_t n) {
    fn(LabelledRows{data.x + start * data.dim, data.y + start, n, data.dim}, start);
  });
}

}  // namespace ncod
