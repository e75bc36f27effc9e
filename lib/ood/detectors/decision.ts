// Detectors that read the classifier's decision geometry, with the ID training mean μ as their only statistic:
//   fDBD (Liu & Qin 2024): mean over c ≠ ŷ of the distance to the decision boundary, (z_ŷ − z_c)/‖w_ŷ − w_c‖,
//                          divided by ‖x − μ‖.
//   NCI (Liu & Qin 2025):  w_ŷ·(x − μ)/‖x − μ‖ + α‖x‖₁ (α is tuned per setting in the paper; default 0).
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { backendId, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { headFromState, headTensors, stateTensor } from './state.js';
import { checkHead, type HeadFitInput } from './subspace.js';

export interface NciOptions extends DetectorOptions {
  /** Weight of the L1 feature norm; default 0. */
  alpha?: number;
}

export class DecisionDetector extends Detector<Float32Array> {
  readonly method: 'fdbd' | 'nci';
  readonly #kind: 0 | 1;
  readonly #alpha: number;
  readonly #options: DetectorOptions;
  #fitted: { weights: Float32Array; bias: Float32Array | null; classes: number; dim: number; mean: Float64Array } | undefined;

  constructor(kind: 0 | 1, options: NciOptions = {}) {
    super();
    this.method = kind === 0 ? 'fdbd' : 'nci';
    this.#kind = kind;
    this.#options = options;
    const alpha = options.alpha ?? 0;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail('ERR_INVALID_ARGUMENT', 'alpha', 'a finite number', describe(alpha));
    this.#alpha = alpha;
  }

  /** Stores the head and the mean of the ID features (float64). */
  async fit(input: HeadFitInput): Promise<this> {
    const { weights, bias, classes, dim } = checkHead(input);
    const { array, rows } = rowsOf('features', input.features, dim);
    const mean = new Float64Array(dim);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < dim; j++) {
        const v = array[i * dim + j];
        if (!Number.isFinite(v)) fail('ERR_NOT_FINITE', `features[${i}, ${j}]`, 'a finite number', String(v));
        mean[j] += v;
      }
    }
    for (let j = 0; j < dim; j++) mean[j] /= rows;
    this.#fitted = { weights, bias, classes, dim, mean };
    this.recordFit(array, weights, bias);
    return this;
  }

  get input(): InputSpec | undefined {
    return this.#fitted && { name: 'features', dim: this.#fitted.dim };
  }

  fittedState(): FittedState {
    const f = this.#fitted;
    if (!f) notFitted(this.method);
    return {
      method: this.method,
      hyperparameters: this.#kind === 1 ? { alpha: this.#alpha } : {},
      input: { name: 'features', dim: f.dim },
      numClasses: f.classes,
      values: {},
      tensors: { ...headTensors(f), mean: f.mean },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): DecisionDetector {
    const kind = state.method === 'fdbd' ? 0 : 1;
    const detector = new DecisionDetector(kind, { ...options, alpha: kind === 1 ? (state.hyperparameters.alpha as number) : 0 });
    const dim = state.input.dim;
    detector.#fitted = { ...headFromState(state, dim), mean: stateTensor(state, 'mean', Float64Array, dim) };
    return detector;
  }

  protected release(): void {
    this.#fitted = undefined;
  }

  async score(features: Float32Array, run: RunOptions = {}): Promise<Float64Array> {
    const f = this.#fitted;
    if (!f) notFitted(this.#kind === 0 ? 'fdbd' : 'nci');
    const { array, rows } = rowsOf('features', features, f.dim);
    const backend = backendId(this.#options);
    return withCancelFlag(run.signal, (flag) =>
      native().decisionScores(array, rows, f.dim, f.weights, f.bias, f.classes, f.mean, this.#kind, this.#alpha, backend, flag, run.onProgress),
    );
  }
}

export const fdbd = (options?: DetectorOptions) => new DecisionDetector(0, options);
export const nci = (options?: NciOptions) => new DecisionDetector(1, options);
