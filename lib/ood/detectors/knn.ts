// KNN (Sun et al. 2022): score = the k-th largest cosine similarity between the L2-normalised query and the
// L2-normalised fit set (1 − ½·d_k² for the k-th smallest Euclidean distance d_k of normalised vectors, so the
// ranking equals the paper's −d_k). Exact: native code compares every fit row (cheap products with a bound on
// their error filter the candidates, which are then recomputed; see native/cpu/knn.cpp).
//
// The fitted bank lives in native memory (a RawKnnBank, native/core/detectors/knn_bank.h), prepared once for
// scoring: a fit from batches appends them one by one, so the bank may exceed what one JS typed array can hold.
import type { RawKnnBank } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { checkedBatches } from '../../data/batches.js';
import { checkArrayLength } from '../../data/tensor.js';
import { NcodError } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import { BatchDigest, isBatchesInput, type BatchesInput } from './batch-fit.js';
import { backendName, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { stateTensor, stateValue } from './state.js';
import type { Method } from '../method-names.js';
import { uniqueNumbers, type MethodSpec } from '../method-spec.js';

export interface KnnOptions extends DetectorOptions {
  /** The neighbour whose similarity is the score; default 50 (the paper's ImageNet setting uses 1000). */
  k?: number;
}

/**
 * How the bank leaves native memory for a saved file: copied in pieces of `readRows` rows into one Float32Array
 * (safetensors stores a tensor whole), refused with ERR_TOO_LARGE past the typed-array limit `maxElements`. Tests
 * shrink both.
 */
export const knnSaveLimits = { readRows: 1 << 16, maxElements: Number.MAX_SAFE_INTEGER };

export class Knn extends Detector<FloatArray> {
  readonly method = 'knn' as const;
  readonly #k: number;
  readonly #options: DetectorOptions;
  #bank: RawKnnBank | undefined;

  constructor(options: KnnOptions = {}) {
    super();
    this.#k = checkInteger('k', options.k ?? 50, 1);
    this.#options = options;
  }

  /**
   * Stores the L2-normalised fit features (N×dim), or the rows of `{ batches }` appended batch by batch (any total
   * size). k must not exceed N. `signal` aborts between row chunks (and batches).
   */
  async fit(input: { features: FloatArray; dim: number } | (BatchesInput & { dim?: number }), run: { signal?: AbortSignal } = {}): Promise<this> {
    const bank = isBatchesInput(input) ? await this.#bankOfBatches(input, run.signal) : await this.#bankOfArray(input, run.signal);
    this.#replaceBank(bank);
    return this;
  }

  async #bankOfArray(input: { features: FloatArray; dim: number }, signal: AbortSignal | undefined): Promise<RawKnnBank> {
    const features = checkFloat32('features', input?.features);
    const dim = checkInteger('dim', input.dim, 1);
    rowsOf('features', features, dim); // the length must divide
    const bank = await filledBank(dim, features, true, signal);
    bank.checkK(this.#k);
    this.recordFit(features);
    return bank;
  }

  async #bankOfBatches(input: BatchesInput & { dim?: number }, signal: AbortSignal | undefined): Promise<RawKnnBank> {
    const digest = new BatchDigest(false);
    let bank: RawKnnBank | undefined;
    try {
      for await (const batch of checkedBatches(input.batches, { dim: input.dim, signal, what: 'KNN bank' })) {
        digest.add(batch);
        if (!bank) {
          bank = new (native().KnnBank)({ dim: batch.features.length / batch.rows });
          const total = knownRows(input.batches);
          if (total !== undefined) bank.reserve(total);
        }
        await withCancelFlag(signal, (cancelFlag) => bank!.append({ features: batch.features, rows: batch.rows, cancelFlag }));
      }
      bank!.checkK(this.#k); // checkedBatches refuses a source without rows
    } catch (error) {
      bank?.dispose();
      throw error;
    }
    this.recordDigest(digest.digest());
    return bank!;
  }

  #replaceBank(bank: RawKnnBank): void {
    this.#bank?.dispose();
    this.#bank = bank;
  }

  get input(): InputSpec | undefined {
    return this.#bank && { name: 'features', dim: this.#bank.dim() };
  }

  fittedState(): FittedState {
    const bank = this.#bank;
    if (!bank) notFitted('knn');
    const rows = bank.rows();
    const dim = bank.dim();
    return {
      method: this.method,
      hyperparameters: { k: this.#k },
      input: { name: 'features', dim },
      numClasses: null,
      values: { rows },
      tensors: { bank: bankArray(bank, rows, dim) },
    };
  }

  /** A detector from its saved state: the normalised bank as it was fitted, taken as it is. */
  static async fromState(state: FittedState, options: DetectorOptions = {}): Promise<Knn> {
    const detector = new Knn({ ...options, k: state.hyperparameters.k as number });
    const dim = state.input.dim;
    const rows = stateValue(state, 'rows', 1);
    const data = stateTensor(state, 'bank', Float32Array, rows * dim);
    const bank = await filledBank(dim, data, false);
    try {
      bank.checkK(detector.#k); // readDetectorFile reports a refusal as ERR_FILE_FORMAT
    } catch (error) {
      bank.dispose();
      throw error;
    }
    detector.#bank = bank;
    return detector;
  }

  protected release(): void {
    this.#bank?.dispose();
    this.#bank = undefined;
  }

  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const bank = this.#bank;
    if (!bank) notFitted('knn');
    const { array, rows } = rowsOf('features', features, bank.dim());
    const backend = backendName(this.#options);
    return withCancelFlag(run.signal, (cancelFlag) =>
      bank.score({ features: array, rows, k: this.#k, backend, cancelFlag, onProgress: run.onProgress }),
    );
  }
}

/** The source's total row count when it says (lib/data/batches.ts BatchSource), for one allocation of the bank. */
function knownRows(source: unknown): number | undefined {
  const rows = (source as { rows?: unknown } | null)?.rows;
  return typeof rows === 'number' && Number.isSafeInteger(rows) && rows > 0 ? rows : undefined;
}

/** A native bank holding `features` (rows×dim), normalised unless they are a saved bank (`normalize: false`). */
async function filledBank(dim: number, features: Float32Array, normalize: boolean, signal?: AbortSignal): Promise<RawKnnBank> {
  const bank = new (native().KnnBank)({ dim });
  try {
    await withCancelFlag(signal, (cancelFlag) => bank.append({ features, rows: features.length / dim, normalize, cancelFlag }));
  } catch (error) {
    bank.dispose();
    throw error;
  }
  return bank;
}

/** The whole bank as one Float32Array, copied out in pieces (knnSaveLimits). */
function bankArray(bank: RawKnnBank, rows: number, dim: number): Float32Array {
  const length = rows * dim;
  if (length > knnSaveLimits.maxElements) {
    throw new NcodError(
      'ERR_TOO_LARGE',
      `knn bank: expected at most ${knnSaveLimits.maxElements} elements to save (one safetensors tensor is one typed array), got ${length} (${rows} rows × ${dim}); score from the feature file with --method knn instead`,
    );
  }
  checkArrayLength(length, 'the KNN bank (saved as one tensor)');
  const out = new Float32Array(length);
  const step = Math.max(1, knnSaveLimits.readRows);
  for (let start = 0; start < rows; start += step) {
    const n = Math.min(step, rows - start);
    out.set(bank.read({ start, rows: n }), start * dim);
  }
  return out;
}

export const knn = (options?: KnnOptions) => new Knn(options);

/** This file's detector as the pipeline sees it (lib/ood/method-spec.ts). */
export const KNN_SPECS = {
  knn: {
    needs: { features: true, labels: false, head: false },
    fit: (inputs, hyper, options, run) => {
      const dim = inputs.dim();
      const detector = knn({ ...options, k: hyper.k });
      const { batches } = inputs.data;
      return batches !== undefined ? detector.fit({ batches, dim }, run) : detector.fit({ features: inputs.features(), dim }, run);
    },
    restore: Knn.fromState,
    benchDefaults: ({ rows }) => ({ k: Math.min(50, rows) }),
    sweepGrid: ({ rows }, base) => uniqueNumbers([base.k!, 1, 5, 10, 20, 50, 100, 200].map((k) => Math.min(k, rows))).map((k) => ({ k })),
  },
} satisfies Partial<Record<Method, MethodSpec>>;
