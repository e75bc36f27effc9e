// Detectors that read the classifier's decision geometry, with the ID training mean μ as their only statistic:
//   fDBD (Liu & Qin 2024): mean over c ≠ ŷ of the distance to the decision boundary, (z_ŷ − z_c)/‖w_ŷ − w_c‖,
//                          divided by ‖x − μ‖.
//   NCI (Liu & Qin 2025):  w_ŷ·(x − μ)/‖x − μ‖ + α‖x‖₁ (α is tuned per setting in the paper; default 0).
import type { RawLinearHead } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { backendName, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { headFromState, headTensors, nativeHead, stateTensor, type HeadState } from './state.js';
import type { FloatArray } from '../../validate.js';
import { checkHead, type SubspaceFitInput } from './subspace.js';
import { BatchDigest, isBatchesInput } from './batch-fit.js';
import { checkedBatches, type BatchSource } from '../../data/batches.js';
import type { Method } from '../method-names.js';
import type { MethodSpec } from '../method-spec.js';

export interface NciOptions extends DetectorOptions {
  /** Weight of the L1 feature norm; default 0. */
  alpha?: number;
}

export class DecisionDetector extends Detector<FloatArray> {
  readonly method: 'fdbd' | 'nci';
  readonly #kind: 0 | 1;
  readonly #alpha: number;
  readonly #options: DetectorOptions;
  #fitted: { head: HeadState; native: RawLinearHead; mean: Float64Array } | undefined;

  constructor(kind: 0 | 1, options: NciOptions = {}) {
    super();
    this.method = kind === 0 ? 'fdbd' : 'nci';
    this.#kind = kind;
    this.#options = options;
    const alpha = options.alpha ?? 0;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail('ERR_INVALID_ARGUMENT', 'alpha', 'a finite number', describe(alpha));
    this.#alpha = alpha;
  }

  /**
   * Stores the head and the mean of the ID features (float64). The mean is the only statistic, so `{ batches }` (in
   * place of `features`) takes one pass of any source with O(d) state, summing in stream order: the same mean,
   * bit for bit, as the array fit. The signal is checked between batches; the fit digest is batch-fit.ts's BatchDigest.
   */
  async fit(input: SubspaceFitInput, run: RunOptions = {}): Promise<this> {
    const { weights, bias, classes, dim } = checkHead(input);
    const sums = new Float64Array(dim);
    let rows = 0;
    if (isBatchesInput(input)) {
      const digest = new BatchDigest(false);
      rows = await sumBatches(input.batches, dim, sums, digest, run.signal);
      this.recordDigest(digest.digest(weights, bias));
    } else {
      const { array, rows: n } = rowsOf('features', input.features, dim);
      addRows(array, n, dim, 0, sums);
      rows = n;
      this.recordFit(array, weights, bias);
    }
    const mean = sums.map((s) => s / rows);
    this.#setFitted({ weights, bias, classes, dim }, mean);
    return this;
  }

  #setFitted(head: HeadState, mean: Float64Array): void {
    const bound = nativeHead(head);
    this.release();
    this.#fitted = { head, native: bound, mean };
  }

  get input(): InputSpec | undefined {
    return this.#fitted && { name: 'features', dim: this.#fitted.head.dim };
  }

  fittedState(): FittedState {
    const f = this.#fitted;
    if (!f) notFitted(this.method);
    return {
      method: this.method,
      hyperparameters: this.#kind === 1 ? { alpha: this.#alpha } : {},
      input: { name: 'features', dim: f.head.dim },
      numClasses: f.head.classes,
      values: {},
      tensors: { ...headTensors(f.head), mean: f.mean },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): DecisionDetector {
    const kind = state.method === 'fdbd' ? 0 : 1;
    const detector = new DecisionDetector(kind, { ...options, alpha: kind === 1 ? (state.hyperparameters.alpha as number) : 0 });
    const dim = state.input.dim;
    detector.#setFitted(headFromState(state, dim), stateTensor(state, 'mean', Float64Array, dim));
    return detector;
  }

  protected release(): void {
    this.#fitted?.native.dispose();
    this.#fitted = undefined;
  }

  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const f = this.#fitted;
    if (!f) notFitted(this.#kind === 0 ? 'fdbd' : 'nci');
    const { array, rows } = rowsOf('features', features, f.head.dim);
    const backend = backendName(this.#options);
    return withCancelFlag(run.signal, (cancelFlag) =>
      native().decisionScores({ features: array, rows, head: f.native, mean: f.mean, kind: this.method, alpha: this.#alpha, backend, cancelFlag, onProgress: run.onProgress }),
    );
  }
}

/** Adds the rows (checked finite; `offset` numbers them in messages) into per-column float64 sums. */
function addRows(x: Float32Array, rows: number, dim: number, offset: number, sums: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      const v = x[i * dim + j];
      if (!Number.isFinite(v)) fail('ERR_NOT_FINITE', `features[${offset + i}, ${j}]`, 'a finite number', String(v));
      sums[j] += v;
    }
  }
}

async function sumBatches(source: BatchSource, dim: number, sums: Float64Array, digest: BatchDigest, signal?: AbortSignal): Promise<number> {
  let rows = 0;
  for await (const batch of checkedBatches(source, { dim, signal })) {
    digest.add(batch);
    addRows(batch.features, batch.rows, dim, batch.offset, sums);
    rows += batch.rows;
  }
  return rows;
}

export const fdbd = (options?: DetectorOptions) => new DecisionDetector(0, options);
export const nci = (options?: NciOptions) => new DecisionDetector(1, options);

/** This file's detectors as the pipeline sees them (lib/ood/method-spec.ts). */
export const DECISION_SPECS = {
  fdbd: {
    needs: { features: true, labels: false, head: true },
    fit: (inputs, _hyper, options, run) => fdbd(options).fit(inputs.rowsWithHead(), run),
    restore: DecisionDetector.fromState,
  },
  nci: {
    needs: { features: true, labels: false, head: true },
    fit: (inputs, hyper, options, run) => nci({ ...options, alpha: hyper.alpha }).fit(inputs.rowsWithHead(), run),
    restore: DecisionDetector.fromState,
    sweepGrid: () => [0, 1e-4, 1e-3, 1e-2, 1e-1].map((alpha) => ({ alpha })),
  },
} satisfies Partial<Record<Method, MethodSpec>>;
