// Shared pieces of the detector classes: run options, input checks, the unfitted error, and the base class that
// gives every detector calibration, decisions, save() and dispose().
import { createHash } from 'node:crypto';

import { pickBackend, type Backend, type BackendName } from '../../backend.js';
import { describe, fail, NcodError } from '../../errors.js';
import { checkFloat32 } from '../../validate.js';
import { achievedTpr, conformalCalibration, decide, type AchievedTpr, type Calibration, type Decisions } from '../calibration.js';
import type { Method } from '../method-names.js';

export interface DetectorOptions {
  backend?: BackendName;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** The backend a detector's native calls run on ('auto' resolved). */
export function backendName(options: DetectorOptions | undefined): Backend {
  return pickBackend(options?.backend);
}

export function notFitted(name: string): never {
  throw new NcodError('ERR_INVALID_ARGUMENT', `${name}.score: expected a fitted detector, got one without fit() (or disposed)`);
}

/** Rows of a row-major Float32Array with `dim` columns; ERR_SHAPE when the length does not divide. */
export function rowsOf(what: string, value: unknown, dim: number): { array: Float32Array; rows: number } {
  const array = checkFloat32(what, value);
  if (array.length === 0 || array.length % dim !== 0) {
    fail('ERR_SHAPE', what, `a non-empty multiple of dim = ${dim} elements`, `${array.length} elements`);
  }
  return { array, rows: array.length / dim };
}

/** What a fitted detector scores: rows of features (d wide) or of logits (C wide). */
export interface InputSpec {
  name: 'features' | 'logits';
  dim: number;
}

/**
 * Everything a fitted detector needs to score, as plain values: what a saved detector file holds
 * (lib/ood/detector-file.ts). `values` are fitted scalars (exact in JSON), `tensors` the fitted arrays.
 */
export interface FittedState {
  method: Method;
  hyperparameters: Record<string, number | boolean | string>;
  input: InputSpec;
  numClasses: number | null;
  values: Record<string, number>;
  tensors: Record<string, Float32Array | Float64Array>;
}

/** Calibration data given directly as scores instead of inputs to score. */
export interface ScoresInput {
  scores: Float64Array;
}

function isScores(value: unknown): value is ScoresInput {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && 'scores' in value;
}

/** SHA-256 over the arrays' bytes, each prefixed by its byte length (absent arrays count as empty). */
export function digestOf(...arrays: (ArrayBufferView | null | undefined)[]): string {
  const hash = createHash('sha256');
  for (const a of arrays) {
    const length = new Float64Array([a ? a.byteLength : -1]);
    hash.update(new Uint8Array(length.buffer));
    if (a) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return hash.digest('hex');
}

/**
 * The base of every detector. `In` is what score() takes. A fitted detector can be calibrated on held-out ID data
 * (the conformal threshold, lib/ood/calibration.ts), turn scores into decisions, and be saved to one file that
 * `detectors.load` reads back into a detector scoring bit-identically.
 */
export abstract class Detector<In> {
  abstract readonly method: Method;
  /** The layer the features come from, recorded in saved files (free text; e.g. "layer4"). */
  layer: string | undefined;
  #calibration: Calibration | undefined;
  #fitDigest: string | null = null;

  /** Higher = more in-distribution. */
  abstract score(input: In, run?: RunOptions): Promise<Float64Array>;

  /** What this detector scores once fitted; undefined before. */
  abstract get input(): InputSpec | undefined;

  /** The fitted state (for save); throws ERR_INVALID_ARGUMENT before fit. */
  abstract fittedState(): FittedState;

  /** Drops the fitted state. */
  protected abstract release(): void;

  /**
   * SHA-256 of the data the detector was fitted on (null when it needs none), recorded in saved files. A fit from
   * batches records BatchDigest's (batch-fit.ts): independent of the batching, but not equal to the array fit's.
   */
  get fitDigest(): string | null {
    return this.#fitDigest;
  }

  protected recordFit(...arrays: (ArrayBufferView | null | undefined)[]): void {
    this.recordDigest(digestOf(...arrays));
  }

  /** Records a digest computed elsewhere (a fit from batches digests the stream as it passes: batch-fit.ts). */
  protected recordDigest(digest: string): void {
    this.#fitDigest = digest;
    this.#calibration = undefined; // a new fit makes an old threshold meaningless
  }

  /** Restores what the base class holds, for a detector read from a file. */
  restoreCommon(fitDigest: string | null, calibration: Calibration | undefined, layer: string | undefined): this {
    this.#fitDigest = fitDigest;
    this.#calibration = calibration;
    this.layer = layer;
    return this;
  }

  get calibration(): Calibration | undefined {
    return this.#calibration;
  }

  async #scoresOf(input: In | ScoresInput, run?: RunOptions): Promise<Float64Array> {
    if (!isScores(input)) return this.score(input, run);
    if (!(input.scores instanceof Float64Array)) fail('ERR_DTYPE', 'scores', 'Float64Array', describe(input.scores));
    return input.scores;
  }

  /**
   * Sets the OOD threshold from held-out ID data (inputs as score() takes them, or `{ scores }`): the conformal
   * threshold for `tpr` (default 0.95), so a new ID sample is kept with probability ≥ tpr. Saved with the detector.
   */
  async calibrate(heldOutId: In | ScoresInput, options: { tpr?: number } & RunOptions = {}): Promise<Calibration> {
    const scores = await this.#scoresOf(heldOutId, options);
    this.#calibration = conformalCalibration(scores, options.tpr ?? 0.95);
    return this.#calibration;
  }

  /** The TPR the calibration achieves on a second held-out ID set, with a bootstrap interval. */
  async checkCalibration(
    heldOutId: In | ScoresInput,
    options: { confidence?: number; resamples?: number; seed?: number } & RunOptions = {},
  ): Promise<AchievedTpr> {
    const calibration = this.#needCalibration('checkCalibration');
    return achievedTpr(calibration, await this.#scoresOf(heldOutId, options), options);
  }

  /** Scores with conformal p-values and OOD flags; needs calibrate() first. */
  async decide(input: In, run?: RunOptions): Promise<Decisions> {
    const calibration = this.#needCalibration('decide');
    return decide(calibration, await this.score(input, run));
  }

  #needCalibration(what: string): Calibration {
    if (!this.#calibration) fail('ERR_INVALID_ARGUMENT', `${this.method}.${what}`, 'a calibrated detector (calibrate() first)', 'no calibration');
    return this.#calibration;
  }

  /** Writes the fitted detector (and its calibration) to one file; `detectors.load(path)` reads it back. */
  async save(path: string, options: { layer?: string } = {}): Promise<void> {
    if (options.layer !== undefined) this.layer = options.layer;
    const { writeDetectorFile } = await import('../detector-file.js'); // the file code imports every detector class
    await writeDetectorFile(path, this);
  }

  /**
   * Releases the fitted state now (its native memory: head, whitened model, bank); the detector must be fitted again
   * to score. Safe to call twice; scores in flight finish first. Without it, the garbage collector frees the state.
   */
  dispose(): void {
    this.release();
    this.#calibration = undefined;
  }

  /** dispose(), for `using detector = ...` (explicit resource management). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
