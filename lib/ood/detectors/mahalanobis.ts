// Mahalanobis (Lee et al. 2018, tied covariance) and Relative Mahalanobis (Ren et al. 2021); see
// native/core/detectors.h for the definitions and the relative ridge.
import type { RawWhitenedModel } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape } from '../../validate.js';
import { l2NormalizeRows } from '../normalize.js';
import { backendId, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { modelFromState, modelTensors } from './state.js';

export interface MahalanobisOptions extends DetectorOptions {
  /** Relative ridge: every covariance eigenvalue gets ridge·λ_max added; default 1e-6. */
  ridge?: number;
  /** Mahalanobis++ (Müller & Hein 2025): L2-normalise the features before fitting and scoring; default false. */
  l2Normalize?: boolean;
}

export interface FitInput {
  /** N×d float32, row-major. */
  features: Float32Array;
  labels: Int32Array;
  numClasses: number;
  dim?: number;
}

export class Mahalanobis extends Detector<Float32Array> {
  readonly method: 'mahalanobis' | 'relative-mahalanobis' | 'mahalanobis++' | 'relative-mahalanobis++';
  readonly #relative: boolean;
  readonly #normalize: boolean;
  readonly #ridge: number;
  readonly #options: DetectorOptions;
  #model: { classes: RawWhitenedModel; background: RawWhitenedModel | null } | undefined;
  #numClasses: number | null = null;

  constructor(relative: boolean, options: MahalanobisOptions = {}) {
    super();
    this.#normalize = options.l2Normalize ?? false;
    if (typeof this.#normalize !== 'boolean') fail('ERR_INVALID_ARGUMENT', 'l2Normalize', 'a boolean', describe(this.#normalize));
    this.method = `${relative ? 'relative-mahalanobis' : 'mahalanobis'}${this.#normalize ? '++' : ''}` as Mahalanobis['method'];
    this.#relative = relative;
    this.#options = options;
    const ridge = options.ridge ?? 1e-6;
    if (typeof ridge !== 'number' || !(ridge >= 0) || !Number.isFinite(ridge)) {
      fail('ERR_INVALID_ARGUMENT', 'ridge', 'a finite number >= 0', describe(ridge));
    }
    this.#ridge = ridge;
  }

  get dim(): number | undefined {
    return this.#model?.classes.dim;
  }

  async fit(input: FitInput, run: RunOptions = {}): Promise<this> {
    const features = checkFloat32('features', input?.features);
    const labels = checkInt32('labels', input.labels);
    const C = checkInteger('numClasses', input.numClasses, 1, 1 << 20);
    const { rows, dim } = matrixShape('features', features.length, labels.length, input.dim);
    const backend = backendId(this.#options);
    const x = this.#normalize ? l2NormalizeRows(features, dim) : features;
    this.#model = await withCancelFlag(run.signal, (flag) =>
      native().mahalanobisFit(x, labels, rows, dim, C, this.#relative, this.#ridge, backend, flag, run.onProgress),
    );
    this.#numClasses = C;
    this.recordFit(features, labels);
    return this;
  }

  get input(): InputSpec | undefined {
    return this.#model && { name: 'features', dim: this.#model.classes.dim };
  }

  fittedState(): FittedState {
    const model = this.#model;
    if (!model) notFitted(this.method);
    const classes = modelTensors('classes', model.classes);
    const background = model.background ? modelTensors('background', model.background) : { tensors: {}, values: {} };
    return {
      method: this.method,
      hyperparameters: { ridge: this.#ridge },
      input: { name: 'features', dim: model.classes.dim },
      numClasses: this.#numClasses,
      values: { ...classes.values, ...background.values },
      tensors: { ...classes.tensors, ...background.tensors },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): Mahalanobis {
    const relative = state.method.startsWith('relative-');
    const l2Normalize = state.method.endsWith('++');
    const detector = new Mahalanobis(relative, { ...options, ridge: state.hyperparameters.ridge as number, l2Normalize });
    const dim = state.input.dim;
    detector.#numClasses = state.numClasses;
    detector.#model = { classes: modelFromState(state, 'classes', dim), background: relative ? modelFromState(state, 'background', dim) : null };
    return detector;
  }

  protected release(): void {
    this.#model = undefined;
  }

  /** Higher = more in-distribution: −min_c MD_c(x) (minus the background MD_0(x) when relative). */
  async score(features: Float32Array, run: RunOptions = {}): Promise<Float64Array> {
    const model = this.#model;
    if (!model) notFitted(this.method);
    const { array, rows } = rowsOf('features', features, model.classes.dim);
    const backend = backendId(this.#options);
    const x = this.#normalize ? l2NormalizeRows(array, model.classes.dim) : array;
    return withCancelFlag(run.signal, (flag) =>
      native().mahalanobisScore(x, rows, model.classes, model.background, backend, flag, run.onProgress),
    );
  }
}

export const mahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(false, options);
export const relativeMahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(true, options);
/** Mahalanobis++ (Müller & Hein, ICML 2025): the same on L2-normalised features. */
export const mahalanobisPlusPlus = (options?: Omit<MahalanobisOptions, 'l2Normalize'>) => new Mahalanobis(false, { ...options, l2Normalize: true });
export const relativeMahalanobisPlusPlus = (options?: Omit<MahalanobisOptions, 'l2Normalize'>) => new Mahalanobis(true, { ...options, l2Normalize: true });
