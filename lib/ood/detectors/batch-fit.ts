// Detector fits from batches (lib/data/batches.ts): the pieces the statistics-based detectors share. A fit from
// batches holds O(d² + C·d) state and one batch at a time, never the whole data:
//   - moments about a shift (an NcAccumulator: class counts, class sums and the d×d scatter about the first batch's
//     mean, float64 and exactly mergeable), from which native code derives the same model as the in-memory fit;
//   - a digest of the stream computed as the batches pass (batchDigest below);
//   - a check that a second pass sees the rows the first one saw.
import { createHash, type Hash } from 'node:crypto';

import type { Backend } from '../../backend-names.js';
import { checkedBatches, type BatchSource, type CheckedBatch } from '../../data/batches.js';
import { fail } from '../../errors.js';
import { NcAccumulator } from '../../metrics/nc-accumulator.js';
import { l2NormalizeRows } from '../normalize.js';
import { digestOf } from './common.js';

/** The batch form of a fit: in place of `features` (and `labels`). */
export interface BatchesInput {
  /** Batches of rows `{ features, labels? }` (see lib/data/batches.ts). */
  batches: BatchSource;
}

export function isBatchesInput(input: unknown): input is BatchesInput {
  return typeof input === 'object' && input !== null && 'batches' in input;
}

/**
 * The fit digest of a batch fit. SHA-256 over, in digestOf's length-prefixed form: the ASCII tag
 * "ncod.fit-digest.batches.v1", the SHA-256 of all feature bytes (float32, in stream order), the SHA-256 of all label
 * bytes (int32; an absent array when the fit takes no labels), then the fit's other arrays (the head). It does not
 * depend on how the rows are cut into batches, but it differs from the array fit's digest of the same data: that one
 * prefixes the features with their total byte length, which a one-pass stream only knows at its end.
 */
export class BatchDigest {
  readonly #features: Hash = createHash('sha256');
  readonly #labels: Hash | undefined;

  constructor(withLabels: boolean) {
    this.#labels = withLabels ? createHash('sha256') : undefined;
  }

  add(batch: CheckedBatch): void {
    this.#features.update(new Uint8Array(batch.features.buffer, batch.features.byteOffset, batch.features.byteLength));
    if (this.#labels && batch.labels) this.#labels.update(new Uint8Array(batch.labels.buffer, batch.labels.byteOffset, batch.labels.byteLength));
  }

  digest(...extras: (ArrayBufferView | null | undefined)[]): string {
    const tag = new TextEncoder().encode('ncod.fit-digest.batches.v1');
    return digestOf(tag, this.#features.digest(), this.#labels?.digest(), ...extras);
  }
}

/** Moments about a shift K, as native mahalanobisFitMoments/subspaceFitMoments take them. */
export interface ShiftedMoments {
  dim: number;
  shift: Float64Array;
  counts: Float64Array;
  sums: Float64Array;
  scatter: Float64Array;
  rows: number;
}

export interface MomentsPass {
  dim?: number;
  /** With labels: per-class moments for `numClasses` classes; without: one class (every row labelled 0). */
  numClasses?: number;
  /** L2-normalise each batch's rows first (Mahalanobis++). */
  normalize?: boolean;
  signal?: AbortSignal;
  backend: Backend;
  digest: BatchDigest;
}

/**
 * One pass accumulating moments about a shift. The NcAccumulator needs at least two classes, so a one-class pass (or
 * a one-class Mahalanobis fit) keeps a second, always empty class and drops it from the result; labels of a
 * one-class fit are checked here because the accumulator would take a 1.
 */
export async function accumulateMoments(source: BatchSource, pass: MomentsPass): Promise<ShiftedMoments> {
  const labelled = pass.numClasses !== undefined;
  const C = pass.numClasses ?? 1;
  let acc: NcAccumulator | undefined;
  let rows = 0;
  for await (const batch of checkedBatches(source, { dim: pass.dim, labels: labelled, signal: pass.signal })) {
    const dim = batch.features.length / batch.rows;
    acc ??= new NcAccumulator({ dim, numClasses: Math.max(C, 2), backend: pass.backend });
    pass.digest.add(batch);
    const labels = labelled ? batch.labels! : new Int32Array(batch.rows); // an unlabelled pass ignores any labels
    if (labelled && C === 1) checkOneClass(labels, batch.offset);
    const features = pass.normalize ? l2NormalizeRows(batch.features, dim) : batch.features;
    await acc.add(features, labels, { signal: pass.signal });
    rows += batch.rows;
  }
  const s = await acc!.stateAsync(); // checkedBatches refuses a source without rows
  return { dim: s.dim, shift: s.shift, counts: s.counts.slice(0, C), sums: s.sums.slice(0, C * s.dim), scatter: s.scatter, rows };
}

function checkOneClass(labels: Int32Array, offset: number): void {
  const bad = labels.findIndex((y) => y !== 0);
  if (bad >= 0) fail('ERR_LABEL_RANGE', `labels[${offset + bad}]`, 'an integer in [0, 1)', String(labels[bad]));
}

/** A second pass must see the rows the first saw (a re-iterable source that changed in between is refused). */
export function checkSameRows(what: string, first: number, second: number, unit = 'rows'): void {
  if (first !== second) {
    fail('ERR_INVALID_ARGUMENT', what, `a source that yields the same ${unit} on every pass (${first} in the first)`, `${second} ${unit} in the second`);
  }
}
