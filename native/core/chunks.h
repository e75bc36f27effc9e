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

// Calls fn(chunk, first_row) over consecutive chunks, checking for cancellation before each and reporting
// progress linearly from progress_from to progress_to.
template <typename Fn>
void for_each_chunk(const LabelledRows& data, const RunContext& context, double progress_from, double progress_to,
                    Fn&& fn) {
  const size_t step = rows_per_chunk(data.dim, kChunkBytes);
  for (size_t start = 0; start < data.rows; start += step) {
    context.throw_if_cancelled();
    const size_t rows = std::min(step, data.rows - start);
    fn(LabelledRows{data.x + start * data.dim, data.y + start, rows, data.dim}, start);
    context.progress(progress_from + (progress_to - progress_from) * double(start + rows) / double(data.rows));
  }
}

}  // namespace ncod
