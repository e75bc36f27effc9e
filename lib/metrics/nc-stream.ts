/**
 * NC metrics of data that is never whole in memory: `ncMetrics({ batches, numClasses })`. One pass accumulates
 * exact float64 moments (NcAccumulator); with classifier weights, NC4's NCC agreement needs the final class means
 * for every sample, so a second pass over a re-iterable source computes it (a one-pass source, e.g. a generator,
 * reports it as null).
 * Memory: the d×d moments and one batch, whatever N.
 */
import type { BackendName } from '../backend.js';
import { checkedBatches, isReiterable, type BatchSource } from '../data/batches.js';
import { describe, fail } from '../errors.js';
import { checkFloat32, checkInteger, type FloatArray } from '../validate.js';
import { NcAccumulator } from './nc-accumulator.js';
import { nccAgreementCount } from './ncc-agreement.js';
import type { NcMetrics } from './nc.js';

export interface NcStreamOptions {
  /** Batches of { features, labels } (see lib/data/batches.ts); a file source from openFeatureSource works too. */
  batches: BatchSource;
  numClasses: number;
  /** The row width; fixed by the first batch when omitted. */
  dim?: number;
  /** Classifier weights, C×d row-major: enables NC2 (weights), NC3 and NC4 (the agreement takes a second pass). */
  weights?: FloatArray;
  bias?: FloatArray;
  /** OOD feature batches (labels ignored): enables NC5. */
  oodBatches?: BatchSource;
  weightedGlobalMean?: boolean;
  rankTolerance?: number;
  backend?: BackendName;
  signal?: AbortSignal;
  /** Called after every batch with the rows done so far (and the total, when the source knows it). */
  onRows?: (done: number, total: number | undefined) => void;
  /** Receives the accumulated state before finalising (e.g. to save it for `ncod merge`). */
  onState?: (accumulator: NcAccumulator) => void | Promise<void>;
}

/** Rows in the whole source, when it says (file sources do). */
function totalRows(source: BatchSource): number | undefined {
  const rows = (source as { rows?: unknown }).rows;
  return typeof rows === 'number' ? rows : undefined;
}

/**
 * One pass over `batches` (and `oodBatches`) into an NcAccumulator: the state `ncod merge` combines. Classes may be
 * missing (a shard of class-sorted data): only the metrics need every class.
 */
export async function accumulateBatches(options: Omit<NcStreamOptions, 'weights' | 'bias' | 'weightedGlobalMean' | 'rankTolerance' | 'onState'>): Promise<NcAccumulator> {
  const numClasses = checkInteger('numClasses', options?.numClasses, 2, 1 << 20);
  const total = totalRows(options.batches);
  const run = { signal: options.signal };
  let accumulator: NcAccumulator | undefined;
  let done = 0;
  for await (const batch of checkedBatches(options.batches, { dim: options.dim, labels: true, signal: options.signal, what: 'batches' })) {
    accumulator ??= new NcAccumulator({ dim: batch.features.length / batch.rows, numClasses, backend: options.backend });
    await accumulator.add(batch.features, batch.labels!, run);
    done += batch.rows;
    options.onRows?.(done, total);
  }
  const acc = accumulator!;
  if (options.oodBatches !== undefined) {
    for await (const batch of checkedBatches(options.oodBatches, { dim: acc.dim, signal: options.signal, what: 'oodBatches' })) {
      await acc.addOod(batch.features, run);
    }
  }
  return acc;
}

export async function ncMetricsFromBatches(options: NcStreamOptions): Promise<NcMetrics> {
  const numClasses = checkInteger('numClasses', options?.numClasses, 2, 1 << 20);
  const weights = options.weights === undefined ? null : checkFloat32('weights', options.weights);
  const bias = options.bias === undefined ? null : checkFloat32('bias', options.bias);
  if (bias && !weights) fail('ERR_INVALID_ARGUMENT', 'bias', 'weights to go with it', 'bias without weights');
  const tolerance = options.rankTolerance ?? -1;
  if (typeof tolerance !== 'number' || !(tolerance < 1)) fail('ERR_INVALID_ARGUMENT', 'rankTolerance', 'a number in [0, 1)', describe(tolerance));
  const dim = options.dim;
  if (weights && dim !== undefined && weights.length !== numClasses * dim) {
    fail('ERR_SHAPE', 'weights', `${numClasses} × ${dim} elements (numClasses × dim)`, `${weights.length} elements`);
  }
  const acc = await accumulateBatches(options);
  if (weights && weights.length !== numClasses * acc.dim) {
    fail('ERR_SHAPE', 'weights', `${numClasses} × ${acc.dim} elements (numClasses × dim)`, `${weights.length} elements`);
  }
  if (bias && bias.length !== numClasses) fail('ERR_SHAPE', 'bias', `${numClasses} elements`, `${bias.length} elements`);
  await options.onState?.(acc);
  const metrics = await acc.finalize({
    weights: weights ?? undefined,
    bias: bias ?? undefined,
    weightedGlobalMean: options.weightedGlobalMean ?? false,
    rankTolerance: tolerance,
    signal: options.signal,
  });
  if (weights && isReiterable(options.batches)) {
    metrics.nc4_ncc_agreement = await agreementPass(options, acc, weights, bias, metrics.n);
  }
  return metrics;
}

/** NC4's second pass: every row's nearest final class mean against the classifier's argmax. */
async function agreementPass(options: NcStreamOptions, acc: NcAccumulator, weights: Float32Array, bias: Float32Array | null, n: number): Promise<number> {
  const { shift, sums, counts, dim, classes } = acc.stateWithoutScatter();
  const means = new Float64Array(classes * dim);
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) means[c * dim + j] = shift[j] + sums[c * dim + j] / counts[c];
  let agree = 0;
  let seen = 0;
  for await (const batch of checkedBatches(options.batches, { dim, signal: options.signal, what: 'batches (second pass)' })) {
    agree += await nccAgreementCount(batch.features, means, weights, bias, classes, { backend: options.backend, signal: options.signal });
    seen += batch.rows;
    options.onRows?.(n + seen, n * 2);
  }
  if (seen !== n) fail('ERR_INVALID_ARGUMENT', 'batches', `the same ${n} rows in the second pass (nc4_ncc_agreement)`, `${seen}`);
  return agree / n;
}
