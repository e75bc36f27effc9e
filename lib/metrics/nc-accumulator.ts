// Streaming NC metrics: add batches as a data loader yields them, merge partial states from other
// processes or machines exactly, save them as checksummed state files (lib/metrics/nc-state-file.ts, specified in
// docs/ncstate.md; scripts/python/ncstate.py writes them from Python), and finalise to the same metrics as
// ncMetrics() (nc4_ncc_agreement excepted: it needs every sample against the final means, so it is null here).
import type { RawNcAccumulator, RawNcAccumulatorState } from '../../binding.js';
import { withCancelFlag } from '../abort.js';
import { pickBackend, type BackendName } from '../backend.js';
import { encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../data/index.js';
import { NcodError, describe, fail } from '../errors.js';
import { native } from '../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';
import type { NcMetrics } from './nc.js';
import { decodeState, encodeState } from './nc-state-file.js';

export type NcAccumulatorState = RawNcAccumulatorState;

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

// Lets fromState() hand a restored native object to the constructor; nothing outside this module can.
const restoredToken = Symbol('restored');
interface Restored {
  token: symbol;
  raw: RawNcAccumulator;
}

/** A decoded file's state as an accumulator; what the native checks still refuse is a damaged file. */
function restore(state: NcAccumulatorState, what: string, options: { backend?: BackendName }): NcAccumulator {
  try {
    return NcAccumulator.fromState(state, options);
  } catch (error) {
    if (error instanceof NcodError && error.code === 'ERR_BACKEND_UNAVAILABLE') throw error;
    return fail('ERR_FILE_FORMAT', what, 'a consistent state', (error as Error).message);
  }
}

export class NcAccumulator {
  readonly dim: number;
  readonly numClasses: number;
  #native: RawNcAccumulator;

  constructor(options: { dim: number; numClasses: number; backend?: BackendName }, restored?: Restored) {
    this.dim = checkInteger('dim', options?.dim, 1, 16384);
    this.numClasses = checkInteger('numClasses', options.numClasses, 2, 1 << 20);
    this.#native =
      restored?.token === restoredToken
        ? restored.raw
        : new (native().NcAccumulator)({ dim: this.dim, numClasses: this.numClasses, backend: pickBackend(options.backend) });
  }

  /** Restores a state from state() (validated natively: lengths, finiteness, counts). */
  static fromState(state: NcAccumulatorState, options: { backend?: BackendName } = {}): NcAccumulator {
    const raw = native().NcAccumulator.fromState({ state, backend: pickBackend(options.backend) });
    return new NcAccumulator({ dim: state.dim, numClasses: state.classes }, { token: restoredToken, raw });
  }

  /** Adds one batch (N×dim features, N labels). Classes may be missing from a batch. */
  async add(featuresIn: FloatArray, labelsIn: IntegerArray, options: RunOptions = {}): Promise<void> {
    const features = checkFloat32('features', featuresIn);
    const labels = checkInt32('labels', labelsIn);
    const { rows } = matrixShape('features', features.length, labels.length, this.dim);
    await withCancelFlag(options.signal, (cancelFlag) =>
      this.#native.add({ features, labels, rows, cancelFlag, onProgress: options.onProgress }),
    );
  }

  /** Adds OOD features (for nc5_ood_orthogonality). */
  async addOod(featuresIn: FloatArray, options: RunOptions = {}): Promise<void> {
    const features = checkFloat32('oodFeatures', featuresIn);
    if (features.length === 0 || features.length % this.dim !== 0) {
      fail('ERR_SHAPE', 'oodFeatures', `a non-empty multiple of dim = ${this.dim} elements`, `${features.length} elements`);
    }
    const rows = features.length / this.dim;
    await withCancelFlag(options.signal, (cancelFlag) => this.#native.addOod({ features, rows, cancelFlag, onProgress: options.onProgress }));
  }

  /**
   * Adds another accumulator's data to this one (exactly, whatever the order of batches). Synchronous: O(dim²) work on
   * the calling thread (tens of ms at dim = 4096); in a server or a UI prefer mergeAsync().
   */
  merge(other: NcAccumulator): void {
    this.#native.merge(this.#other(other, 'merge'));
  }

  /** merge() on a worker thread: the event loop keeps running. Do not add to either accumulator until it settles. */
  async mergeAsync(other: NcAccumulator): Promise<void> {
    await this.#native.mergeAsync(this.#other(other, 'mergeAsync'));
  }

  #other(other: NcAccumulator, what: string): RawNcAccumulator {
    if (!(other instanceof NcAccumulator)) fail('ERR_INVALID_ARGUMENT', what, 'an NcAccumulator', describe(other));
    if (other === this) fail('ERR_INVALID_ARGUMENT', what, 'another accumulator', 'itself');
    return other.#native;
  }

  /**
   * A copy of the state (the dim×dim scatter included: 128 MiB at dim = 4096), made on the calling thread. stateAsync()
   * copies on a worker thread; stateWithoutScatter() skips the d×d matrix for callers that need counts, sums or shift.
   */
  state(): NcAccumulatorState {
    return this.#native.state();
  }

  /** state() copied on a worker thread. */
  stateAsync(): Promise<NcAccumulatorState> {
    return this.#native.stateAsync();
  }

  /** The state without its dim×dim scatter (counts, sums, shift, ...: O(numClasses × dim) to copy). */
  stateWithoutScatter(): Omit<NcAccumulatorState, 'scatter'> {
    const { scatter: _, ...rest } = this.#native.state(false);
    return rest;
  }

  /** The state as the bytes of a state file (safetensors, format version 2 with its SHA-256: docs/ncstate.md). */
  serialize(): Uint8Array {
    const { tensors, metadata } = encodeState(this.state());
    return encodeSafetensors(tensors, metadata);
  }

  /** Reads serialize()'s bytes (or a version 1 state's); anything else is ERR_FILE_FORMAT. */
  static deserialize(bytes: Uint8Array, options: { backend?: BackendName } = {}): NcAccumulator {
    if (!(bytes instanceof Uint8Array)) fail('ERR_INVALID_ARGUMENT', 'accumulator state', 'a Uint8Array', describe(bytes));
    return restore(decodeState(parseSafetensors(bytes, 'accumulator state'), 'accumulator state'), 'accumulator state', options);
  }

  /** Writes the state file atomically (a temp file in the same folder, then a rename): readers never see half a file. */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') fail('ERR_INVALID_ARGUMENT', 'path', 'a file path', describe(path));
    const { tensors, metadata } = encodeState(await this.stateAsync());
    await writeSafetensors(path, tensors, metadata);
  }

  /** Reads a state file (save(), scripts/python/ncstate.py, or version 1); a damaged one is ERR_FILE_FORMAT. */
  static async load(path: string, options: { backend?: BackendName } = {}): Promise<NcAccumulator> {
    if (typeof path !== 'string' || path === '') fail('ERR_INVALID_ARGUMENT', 'path', 'a file path', describe(path));
    const what = `NC state ${path}`;
    return restore(decodeState(await readSafetensors(path), what), what, options);
  }

  /** The metrics of everything added so far. `signal` aborts between stages (the SVD itself cannot be interrupted). */
  async finalize(
    options: {
      weights?: Float32Array;
      bias?: Float32Array;
      weightedGlobalMean?: boolean;
      rankTolerance?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<NcMetrics> {
    const weights = options.weights === undefined ? null : checkFloat32('weights', options.weights);
    const bias = options.bias === undefined ? null : checkFloat32('bias', options.bias);
    if (bias && !weights) fail('ERR_INVALID_ARGUMENT', 'bias', 'weights to go with it', 'bias without weights');
    const weightedGlobalMean = options.weightedGlobalMean ?? false;
    const rankTolerance = options.rankTolerance ?? -1;
    return withCancelFlag(options.signal, (cancelFlag) =>
      this.#native.finalize({ weights, bias, weightedGlobalMean, rankTolerance, cancelFlag }),
    );
  }
}
