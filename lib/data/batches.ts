/**
 * Batches of rows, for work on data that is never whole in memory: metrics, detector fits and scoring take a
 * `BatchSource` as well as arrays. A source is
 *   - an async iterable of batches (an async generator: one pass only), or
 *   - a re-iterable one (an object whose [Symbol.asyncIterator]() gives a fresh iterator each call, as the file
 *     sources of lib/data/stream.ts do), or a function returning a fresh async iterable each call.
 * Work that needs a second pass over the data (ViM's α, ReAct's exact percentile, NC4's NCC agreement) asks for a
 * re-iterable source and says so in an ERR_INVALID_ARGUMENT otherwise.
 */
import { describe, fail } from '../errors.js';
import { checkFloat32, checkInt32, type FloatArray, type IntegerArray } from '../validate.js';

export interface FeatureBatch {
  /** rows×dim, row-major; Float64Array is converted to float32 per batch. */
  features: FloatArray;
  /** One label per row (any integer typed array), where the work needs labels. */
  labels?: IntegerArray;
}

/**
 * Batches in order. A source may also carry `rows`, its total row count when known (FeatureFileSource does): fits that
 * keep every row (KNN's bank) then allocate once.
 */
export type BatchSource = AsyncIterable<FeatureBatch> | Iterable<FeatureBatch> | (() => AsyncIterable<FeatureBatch> | Iterable<FeatureBatch>);

/** A batch as the native code takes it. */
export interface CheckedBatch {
  features: Float32Array;
  labels: Int32Array | undefined;
  rows: number;
  /** The index of this batch's first row in the whole stream. */
  offset: number;
}

export interface BatchPassOptions {
  /** The row width; fixed by the first batch when omitted. */
  dim?: number;
  /** Require labels on every batch. */
  labels?: boolean;
  /** Checked between batches: an aborted signal stops the pass with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Names the source in error messages. */
  what?: string;
}

export function isBatchSource(value: unknown): value is BatchSource {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Symbol.asyncIterator in value || (Symbol.iterator in value && !ArrayBuffer.isView(value));
}

/** Whether iterating `source` again starts from its first batch. */
export function isReiterable(source: BatchSource): boolean {
  if (typeof source === 'function') return true;
  if (Array.isArray(source)) return true;
  const iterable = source as { [Symbol.asyncIterator]?: () => unknown; [Symbol.iterator]?: () => unknown };
  const make = iterable[Symbol.asyncIterator] ?? iterable[Symbol.iterator];
  // Generators return themselves: iterating again would continue, not restart.
  return typeof make === 'function' && (make.call(source) as unknown) !== source;
}

/** Refuses a one-pass source where the work needs `passes` passes. */
export function requirePasses(source: BatchSource, passes: number, what: string, why: string): void {
  if (passes > 1 && !isReiterable(source)) {
    fail('ERR_INVALID_ARGUMENT', what, `a re-iterable batch source (a function returning an async iterable, an array, or a file source) because ${why}`, 'a one-pass iterator (a generator)');
  }
}

function open(source: BatchSource, what: string): AsyncIterable<FeatureBatch> | Iterable<FeatureBatch> {
  const iterable = typeof source === 'function' ? source() : source;
  if (!isBatchSource(iterable) || typeof iterable === 'function') {
    fail('ERR_INVALID_ARGUMENT', what, 'an iterable or async iterable of { features, labels? } batches', describe(iterable));
  }
  return iterable as AsyncIterable<FeatureBatch> | Iterable<FeatureBatch>;
}

/**
 * One pass over `source`: every batch checked (types, a whole number of rows of the same dim, labels per row)
 * and converted to float32/int32. Empty batches are skipped; a source with no rows at all is ERR_SHAPE.
 */
export async function* checkedBatches(source: BatchSource, options: BatchPassOptions = {}): AsyncGenerator<CheckedBatch> {
  const what = options.what ?? 'batches';
  let dim = options.dim;
  let offset = 0;
  let index = 0;
  for await (const batch of open(source, what)) {
    if (options.signal?.aborted) fail('ERR_ABORTED', what, 'a pass that was not aborted', `aborted after ${offset} rows`);
    const name = `${what}[${index++}]`;
    if (batch === null || typeof batch !== 'object') fail('ERR_INVALID_ARGUMENT', name, 'a { features, labels? } batch', describe(batch));
    const features = checkFloat32(`${name}.features`, batch.features);
    const labels = batch.labels === undefined ? undefined : checkInt32(`${name}.labels`, batch.labels);
    if (options.labels && !labels) fail('ERR_INVALID_ARGUMENT', `${name}.labels`, 'labels on every batch', 'none');
    if (features.length === 0 && (labels?.length ?? 0) === 0) continue;
    if (dim === undefined) {
      if (!labels) fail('ERR_INVALID_ARGUMENT', 'dim', 'the row width (or labels on the first batch to infer it)', 'neither');
      if (labels.length === 0 || features.length % labels.length !== 0) {
        fail('ERR_SHAPE', `${name}.features`, `a multiple of its ${labels.length} labels`, `${features.length} elements`);
      }
      dim = features.length / labels.length;
    }
    if (features.length % dim !== 0) fail('ERR_SHAPE', `${name}.features`, `whole rows of dim ${dim}`, `${features.length} elements`);
    const rows = features.length / dim;
    if (labels && labels.length !== rows) fail('ERR_SHAPE', `${name}.labels`, `${rows} labels (one per row)`, `${labels.length}`);
    yield { features, labels, rows, offset };
    offset += rows;
  }
  if (offset === 0) fail('ERR_SHAPE', what, 'at least one row', 'no rows');
}
