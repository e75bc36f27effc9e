// Streaming NC metrics: add batches as a data loader yields them, merge partial states from other
// processes or machines exactly, serialise them, and finalise to the same metrics as ncMetrics()
// (nc4_ncc_agreement excepted: it needs every sample against the final means, so it is null here).
import type { RawNcAccumulator, RawNcAccumulatorState } from '../../binding.js';
import { withCancelFlag } from '../abort.js';
import { resolveBackend, type BackendName } from '../backend.js';
import { encodeSafetensors, parseSafetensors, type Tensor } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { native } from '../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';
import type { NcMetrics } from './nc.js';

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

const FORMAT = 'ncod.nc-accumulator';
const FORMAT_VERSION = '1';
const ARRAY_KEYS = ['shift', 'counts', 'sums', 'sqNorms', 'scatter', 'oodSums'] as const;

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
        : new (native().NcAccumulator)(this.dim, this.numClasses, resolveBackend(options.backend));
  }

  /** Restores a state from state() (validated natively: lengths, finiteness, counts). */
  static fromState(state: NcAccumulatorState, options: { backend?: BackendName } = {}): NcAccumulator {
    const raw = native().NcAccumulator.fromState(state, resolveBackend(options.backend));
    return new NcAccumulator({ dim: state.dim, numClasses: state.classes }, { token: restoredToken, raw });
  }

  /** Adds one batch (N×dim features, N labels). Classes may be missing from a batch. */
  async add(featuresIn: FloatArray, labelsIn: IntegerArray, options: RunOptions = {}): Promise<void> {
    const features = checkFloat32('features', featuresIn);
    const labels = checkInt32('labels', labelsIn);
    const { rows } = matrixShape('features', features.length, labels.length, this.dim);
    await withCancelFlag(options.signal, (flag) => this.#native.add(features, labels, rows, flag, options.onProgress));
  }

  /** Adds OOD features (for nc5_ood_orthogonality). */
  async addOod(featuresIn: FloatArray, options: RunOptions = {}): Promise<void> {
    const features = checkFloat32('oodFeatures', featuresIn);
    if (features.length === 0 || features.length % this.dim !== 0) {
      fail('ERR_SHAPE', 'oodFeatures', `a non-empty multiple of dim = ${this.dim} elements`, `${features.length} elements`);
    }
    const rows = features.length / this.dim;
    await withCancelFlag(options.signal, (flag) => this.#native.addOod(features, rows, flag, options.onProgress));
  }

  /** Adds another accumulator's data to this one (exactly, whatever the order of batches). */
  merge(other: NcAccumulator): void {
    if (!(other instanceof NcAccumulator)) fail('ERR_INVALID_ARGUMENT', 'merge', 'an NcAccumulator', describe(other));
    this.#native.merge(other.#native);
  }

  state(): NcAccumulatorState {
    return this.#native.state();
  }

  /** The state as a .safetensors byte array (float64 tensors, format metadata). */
  serialize(): Uint8Array {
    const s = this.state();
    const tensors = new Map<string, Tensor>();
    const shapes: Record<(typeof ARRAY_KEYS)[number], number[]> = {
      shift: [s.shift.length],
      counts: [s.classes],
      sums: [s.classes, s.dim],
      sqNorms: [s.classes],
      scatter: [s.dim, s.dim],
      oodSums: [s.dim],
    };
    for (const key of ARRAY_KEYS) tensors.set(key, { dtype: 'float64', shape: shapes[key], data: s[key] });
    tensors.set('oodCount', { dtype: 'float64', shape: [1], data: Float64Array.of(s.oodCount) });
    return encodeSafetensors(tensors, { format: FORMAT, version: FORMAT_VERSION, dim: String(s.dim), classes: String(s.classes) });
  }

  /** Reads serialize()'s bytes; anything else is ERR_FILE_FORMAT. */
  static deserialize(bytes: Uint8Array, options: { backend?: BackendName } = {}): NcAccumulator {
    const { tensors, metadata } = parseSafetensors(bytes, 'accumulator state');
    if (metadata.format !== FORMAT || metadata.version !== FORMAT_VERSION) {
      fail('ERR_FILE_FORMAT', 'accumulator state', `format ${FORMAT} version ${FORMAT_VERSION}`, `${metadata.format} ${metadata.version}`);
    }
    const array = (key: string): Float64Array => {
      const t = tensors.get(key);
      if (!t || t.dtype !== 'float64') fail('ERR_FILE_FORMAT', `accumulator state '${key}'`, 'a float64 tensor', t ? t.dtype : 'none');
      return t.data as Float64Array;
    };
    const dim = Number(metadata.dim);
    const classes = Number(metadata.classes);
    // The claimed sizes against the tensors the bytes hold, before anything of those sizes is allocated.
    const expected: Record<string, number> = { counts: classes, sums: classes * dim, sqNorms: classes, scatter: dim * dim, oodSums: dim, oodCount: 1 };
    if (!Number.isSafeInteger(dim) || dim < 1 || !Number.isSafeInteger(classes) || classes < 2) {
      fail('ERR_FILE_FORMAT', 'accumulator state', 'integer dim >= 1 and classes >= 2', `${metadata.dim}, ${metadata.classes}`);
    }
    for (const [key, length] of Object.entries(expected)) {
      const got = array(key).length;
      if (got !== length) fail('ERR_FILE_FORMAT', `accumulator state '${key}'`, `${length} values (dim ${dim}, classes ${classes})`, `${got}`);
    }
    const state: NcAccumulatorState = {
      dim,
      classes,
      shift: array('shift'),
      counts: array('counts'),
      sums: array('sums'),
      sqNorms: array('sqNorms'),
      scatter: array('scatter'),
      oodCount: array('oodCount')[0],
      oodSums: array('oodSums'),
    };
    try {
      return NcAccumulator.fromState(state, options);
    } catch (error) {
      const message = (error as Error).message;
      fail('ERR_FILE_FORMAT', 'accumulator state', 'a consistent state', message);
    }
  }

  /** The metrics of everything added so far. */
  async finalize(
    options: { weights?: Float32Array; bias?: Float32Array; weightedGlobalMean?: boolean; rankTolerance?: number } = {},
  ): Promise<NcMetrics> {
    const weights = options.weights === undefined ? null : checkFloat32('weights', options.weights);
    const bias = options.bias === undefined ? null : checkFloat32('bias', options.bias);
    if (bias && !weights) fail('ERR_INVALID_ARGUMENT', 'bias', 'weights to go with it', 'bias without weights');
    return this.#native.finalize(weights, bias, options.weightedGlobalMean ?? false, options.rankTolerance ?? -1);
  }
}
