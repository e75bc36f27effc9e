// Mahalanobis (Lee et al. 2018, tied covariance) and Relative Mahalanobis (Ren et al. 2021); see
// native/core/detectors.h for the definitions and the relative ridge.
import type { RawWhitenedModel } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../../validate.js';
import { backendId, notFitted, rowsOf, type DetectorOptions, type RunOptions } from './common.js';

export interface MahalanobisOptions extends DetectorOptions {
  /** Relative ridge: every covariance eigenvalue gets ridge·λ_max added; default 1e-6. */
  ridge?: number;
}

export interface FitInput {
  /** N×d, row-major (Float64Array is converted to float32). */
  features: FloatArray;
  /** Any integer typed array. */
  labels: IntegerArray;
  numClasses: number;
  dim?: number;
}

export class Mahalanobis {
  readonly #relative: boolean;
  readonly #ridge: number;
  readonly #options: DetectorOptions;
  #model: { classes: RawWhitenedModel; background: RawWhitenedModel | null } | undefined;

  constructor(relative: boolean, options: MahalanobisOptions = {}) {
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
    this.#model = await withCancelFlag(run.signal, (flag) =>
      native().mahalanobisFit(features, labels, rows, dim, C, this.#relative, this.#ridge, backend, flag, run.onProgress),
    );
    return this;
  }

  /** Higher = more in-distribution: −min_c MD_c(x) (minus the background MD_0(x) when relative). */
  score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const model = this.#model;
    if (!model) notFitted(this.#relative ? 'relativeMahalanobis' : 'mahalanobis');
    const { array, rows } = rowsOf('features', features, model.classes.dim);
    const backend = backendId(this.#options);
    return withCancelFlag(run.signal, (flag) =>
      native().mahalanobisScore(array, rows, model.classes, model.background, backend, flag, run.onProgress),
    );
  }
}

export const mahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(false, options);
export const relativeMahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(true, options);
