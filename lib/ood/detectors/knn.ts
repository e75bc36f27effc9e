// KNN (Sun et al. 2022): score = the k-th largest cosine similarity between the L2-normalised query and the
// L2-normalised fit set (1 − ½·d_k² for the k-th smallest Euclidean distance d_k of normalised vectors, so the
// ranking equals the paper's −d_k). Exact: native code compares every fit row (cheap products with a bound on
// their error filter the candidates, which are then recomputed; see native/cpu/knn.cpp).
import { withCancelFlag } from '../../abort.js';
import { fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import { backendId, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { stateTensor, stateValue } from './state.js';

export interface KnnOptions extends DetectorOptions {
  /** The neighbour whose similarity is the score; default 50 (the paper's ImageNet setting uses 1000). */
  k?: number;
}

export class Knn extends Detector<FloatArray> {
  readonly method = 'knn' as const;
  readonly #k: number;
  readonly #options: DetectorOptions;
  #bank: { data: Float32Array; rows: number; dim: number } | undefined;

  constructor(options: KnnOptions = {}) {
    super();
    this.#k = checkInteger('k', options.k ?? 50, 1);
    this.#options = options;
  }

  /** Stores the L2-normalised fit features (N×dim). k must not exceed N. `signal` aborts between row chunks. */
  async fit(input: { features: FloatArray; dim: number }, run: { signal?: AbortSignal } = {}): Promise<this> {
    const features = checkFloat32('features', input?.features);
    const dim = checkInteger('dim', input.dim, 1);
    const { rows } = rowsOf('features', features, dim);
    if (this.#k > rows) fail('ERR_INVALID_ARGUMENT', 'k', `an integer in [1, ${rows}] (the fit set size)`, String(this.#k));
    const data = await withCancelFlag(run.signal, (flag) => native().knnFit(features, rows, dim, flag));
    this.#bank = { data, rows, dim };
    this.recordFit(features);
    return this;
  }

  get input(): InputSpec | undefined {
    return this.#bank && { name: 'features', dim: this.#bank.dim };
  }

  fittedState(): FittedState {
    const bank = this.#bank;
    if (!bank) notFitted('knn');
    return {
      method: this.method,
      hyperparameters: { k: this.#k },
      input: { name: 'features', dim: bank.dim },
      numClasses: null,
      values: { rows: bank.rows },
      tensors: { bank: bank.data },
    };
  }

  /** A detector from its saved state: the normalised bank as it was fitted. */
  static fromState(state: FittedState, options: DetectorOptions = {}): Knn {
    const detector = new Knn({ ...options, k: state.hyperparameters.k as number });
    const dim = state.input.dim;
    const rows = stateValue(state, 'rows', 1);
    if (detector.#k > rows) fail('ERR_FILE_FORMAT', 'knn state', `k ≤ the bank rows (${rows})`, String(detector.#k));
    detector.#bank = { data: stateTensor(state, 'bank', Float32Array, rows * dim), rows, dim };
    return detector;
  }

  protected release(): void {
    this.#bank = undefined;
  }

  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const bank = this.#bank;
    if (!bank) notFitted('knn');
    const { array, rows } = rowsOf('features', features, bank.dim);
    const backend = backendId(this.#options);
    return withCancelFlag(run.signal, (flag) =>
      native().knnScore(array, rows, bank.dim, bank.data, bank.rows, this.#k, backend, flag, run.onProgress),
    );
  }
}

export const knn = (options?: KnnOptions) => new Knn(options);
