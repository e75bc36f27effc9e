// The rows `ncod bench ood` fits on and scores, as re-iterable batch sources: a file source (openFeatureSource,
// sharded or not, one chunk in memory at a time) or rows already in memory (--protocol's features, the benchmark's
// generated data, --sweep's held-out rows), handed out in chunks of the same size, so both take one code path.
import type { FeatureBatch } from '../data/batches.js';
import { chunkRowsFor } from '../data/stream/source.js';
import type { Detector } from '../ood/detectors/common.js';

/** A re-iterable source of float32 rows that knows its size: each iteration starts from the first row. */
export interface RowSource extends AsyncIterable<{ features: Float32Array; labels?: Int32Array }> {
  readonly rows: number;
  readonly dim: number;
}

/** Rows in memory (rows×dim), as subarrays of chunkRowsFor's size (NCOD_CHUNK_ROWS applies, as to files). */
export function memoryRows(data: Float32Array, dim: number): RowSource {
  const rows = data.length / dim;
  return {
    rows,
    dim,
    async *[Symbol.asyncIterator]() {
      const step = chunkRowsFor(dim * 4);
      for (let start = 0; start < rows; start += step) yield { features: data.subarray(start * dim, Math.min(rows, start + step) * dim) };
    },
  };
}

/** The source with labels[offset .. offset + rows) on each batch (labels are held whole: 4 bytes a row). */
export function withLabels(source: RowSource, labels: Int32Array): RowSource & AsyncIterable<Required<FeatureBatch>> {
  return {
    rows: source.rows,
    dim: source.dim,
    async *[Symbol.asyncIterator]() {
      let offset = 0;
      for await (const batch of source) {
        const rows = batch.features.length / source.dim;
        yield { features: batch.features, labels: labels.subarray(offset, offset + rows) };
        offset += rows;
      }
    },
  };
}

/** The rows whose index is set in `keep` (one byte a row of the source), in order. */
export function selectedRows(source: RowSource, keep: Uint8Array): RowSource {
  let rows = 0;
  for (const k of keep) rows += k;
  return {
    rows,
    dim: source.dim,
    async *[Symbol.asyncIterator]() {
      const dim = source.dim;
      let offset = 0;
      for await (const batch of source) {
        const n = batch.features.length / dim;
        let count = 0;
        for (let i = 0; i < n; i++) count += keep[offset + i];
        const out = new Float32Array(count * dim);
        for (let i = 0, o = 0; i < n; i++) if (keep[offset + i]) out.set(batch.features.subarray(i * dim, (i + 1) * dim), dim * o++);
        offset += n;
        if (count > 0) yield { features: out };
      }
    },
  };
}

/** The selected rows gathered into one array (for small subsets such as --sweep's held-out rows). */
export async function gatherRows(source: RowSource, keep: Uint8Array): Promise<Float32Array> {
  const picked = selectedRows(source, keep);
  const out = new Float32Array(picked.rows * source.dim);
  let at = 0;
  for await (const batch of picked) {
    out.set(batch.features, at);
    at += batch.features.length;
  }
  return out;
}

/**
 * Every detector's scores of all the source's rows in one pass over it: each chunk is read once and scored by every
 * detector (8 bytes a row and detector are held). `time` wraps each native scoring call (the table's clock);
 * `onRows` reports the rows done.
 */
export async function scoreRows(
  source: RowSource,
  detectors: readonly Detector<Float32Array>[],
  time: (work: () => Promise<Float64Array>) => Promise<Float64Array>,
  onRows?: (done: number) => void,
): Promise<Float64Array[]> {
  const out = detectors.map(() => new Float64Array(source.rows));
  let offset = 0;
  for await (const batch of source) {
    for (const [i, detector] of detectors.entries()) out[i].set(await time(() => detector.score(batch.features)), offset);
    offset += batch.features.length / source.dim;
    onRows?.(offset);
  }
  return out;
}
