// Mahalanobis (Lee et al. 2018, tied covariance) and Relative Mahalanobis (Ren et al. 2021); see
// native/core/detectors.h for the definitions, the relative ridge and the pseudo-inverse (covariance: 'pinv').
import type { RawWhitenedCentres, RawWhitenedModel } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../../validate.js';
import { l2NormalizeRows } from '../normalize.js';
import { backendName, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { COVARIANCES, type Covariance, type Method } from '../method-names.js';
import type { MethodSpec } from '../method-spec.js';
import { modelFromState, modelTensors, nativeModel } from './state.js';
import { accumulateMoments, BatchDigest, isBatchesInput, type BatchesInput } from './batch-fit.js';

export { COVARIANCES, type Covariance };

export interface MahalanobisOptions extends DetectorOptions {
  /**
   * 'ridge' (default): every covariance eigenvalue gets ridge·λ_max added. 'pinv': the pseudo-inverse, as
   * scipy.linalg.pinvh with its default cut (scikit-learn's EmpiricalCovariance, OpenOOD): eigenvalues at most
   * d·2^−52·λ_max are dropped, so distances are measured in the covariance's range only.
   */
  covariance?: Covariance;
  /** Relative ridge: every covariance eigenvalue gets ridge·λ_max added; default 1e-6 (covariance 'ridge' only: refused with 'pinv'). */
  ridge?: number;
  /** Mahalanobis++ (Müller & Hein 2025): L2-normalise the features before fitting and scoring; default false. */
  l2Normalize?: boolean;
}

export interface FitInput {
  /** N×d, row-major (Float64Array is converted to float32). */
  features: FloatArray;
  /** Any integer typed array. */
  labels: IntegerArray;
  numClasses: number;
  dim?: number;
}

/** The batch form: labelled batches in place of features and labels. */
export interface BatchFitInput extends BatchesInput {
  numClasses: number;
  dim?: number;
}

export class Mahalanobis extends Detector<FloatArray> {
  readonly method: 'mahalanobis' | 'relative-mahalanobis' | 'mahalanobis++' | 'relative-mahalanobis++';
  readonly #relative: boolean;
  readonly #normalize: boolean;
  readonly #ridge: number;
  readonly #covariance: Covariance;
  readonly #options: DetectorOptions;
  #model: { classes: RawWhitenedModel; background: RawWhitenedModel | null } | undefined;
  /** #model in native memory, prepared once per backend for every score. */
  #native: { classes: RawWhitenedCentres; background: RawWhitenedCentres | null } | undefined;
  #numClasses: number | null = null;

  constructor(relative: boolean, options: MahalanobisOptions = {}) {
    super();
    this.#normalize = options.l2Normalize ?? false;
    if (typeof this.#normalize !== 'boolean') fail('ERR_INVALID_ARGUMENT', 'l2Normalize', 'a boolean', describe(this.#normalize));
    this.method = `${relative ? 'relative-mahalanobis' : 'mahalanobis'}${this.#normalize ? '++' : ''}` as Mahalanobis['method'];
    this.#relative = relative;
    this.#options = options;
    const covariance = options.covariance ?? 'ridge';
    if (!COVARIANCES.includes(covariance)) fail('ERR_INVALID_ARGUMENT', 'covariance', `one of ${COVARIANCES.join(', ')}`, describe(covariance));
    this.#covariance = covariance;
    // A ridge with 'pinv' would be silently unused: refused, so that a mistyped command says so.
    if (covariance === 'pinv' && options.ridge !== undefined) fail('ERR_INVALID_ARGUMENT', 'ridge', "no ridge with covariance 'pinv' (the pseudo-inverse takes none)", describe(options.ridge));
    const ridge = options.ridge ?? 1e-6;
    if (typeof ridge !== 'number' || !(ridge >= 0) || !Number.isFinite(ridge)) {
      fail('ERR_INVALID_ARGUMENT', 'ridge', 'a finite number >= 0', describe(ridge));
    }
    this.#ridge = ridge;
  }

  /** What both native fits (from rows, from moments) take besides the data: the ridge only with covariance 'ridge'. */
  get #inverse(): { relative: boolean; covariance: Covariance; ridge?: number } {
    const ridge = this.#covariance === 'ridge' ? { ridge: this.#ridge } : {};
    return { relative: this.#relative, covariance: this.#covariance, ...ridge };
  }

  get dim(): number | undefined {
    return this.#model?.classes.dim;
  }

  /**
   * Fits class means and the tied covariance (and the global covariance when relative). With `{ batches }` the data
   * pass once through an NcAccumulator (moments about the first batch's mean, float64) and the model is derived from
   * those moments natively: O(d² + C·d) memory whatever N, the same model up to float64 rounding. Mahalanobis++
   * normalises each batch's rows first. The signal is checked between batches; onProgress is not called (the total is
   * unknown). The fit digest of a batch fit is batch-fit.ts's BatchDigest (not the array form's).
   */
  async fit(input: FitInput | BatchFitInput, run: RunOptions = {}): Promise<this> {
    if (isBatchesInput(input)) return this.#fitBatches(input, run);
    const features = checkFloat32('features', input?.features);
    const labels = checkInt32('labels', input.labels);
    const C = checkInteger('numClasses', input.numClasses, 1, 1 << 20);
    const { rows, dim } = matrixShape('features', features.length, labels.length, input.dim);
    const backend = backendName(this.#options);
    const x = this.#normalize ? l2NormalizeRows(features, dim) : features;
    this.#setModel(
      await withCancelFlag(run.signal, (cancelFlag) =>
        native().mahalanobisFit({ features: x, labels, rows, dim, numClasses: C, ...this.#inverse, backend, cancelFlag, onProgress: run.onProgress }),
      ),
    );
    this.#numClasses = C;
    this.recordFit(features, labels);
    return this;
  }

  async #fitBatches(input: BatchFitInput, run: RunOptions): Promise<this> {
    const C = checkInteger('numClasses', input.numClasses, 1, 1 << 20);
    const dim = input.dim === undefined ? undefined : checkInteger('dim', input.dim, 1, 16384);
    const backend = backendName(this.#options);
    const digest = new BatchDigest(true);
    const m = await accumulateMoments(input.batches, { dim, numClasses: C, normalize: this.#normalize, signal: run.signal, backend, digest });
    this.#setModel(await native().mahalanobisFitMoments({ shift: m.shift, counts: m.counts, sums: m.sums, scatter: m.scatter, dim: m.dim, numClasses: C, ...this.#inverse, backend }));
    this.#numClasses = C;
    this.recordDigest(digest.digest());
    return this;
  }

  /** Replaces the fitted model and its native copy. */
  #setModel(model: { classes: RawWhitenedModel; background: RawWhitenedModel | null }): void {
    const classes = nativeModel(model.classes);
    let background: RawWhitenedCentres | null = null;
    try {
      background = model.background && nativeModel(model.background);
    } catch (error) {
      classes.dispose();
      throw error;
    }
    this.release();
    this.#model = model;
    this.#native = { classes, background };
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
      hyperparameters: this.#covariance === 'ridge' ? { ridge: this.#ridge, covariance: 'ridge' } : { covariance: this.#covariance },
      input: { name: 'features', dim: model.classes.dim },
      numClasses: this.#numClasses,
      values: { ...classes.values, ...background.values },
      tensors: { ...classes.tensors, ...background.tensors },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): Mahalanobis {
    const relative = state.method.startsWith('relative-');
    const l2Normalize = state.method.endsWith('++');
    const covariance = state.hyperparameters.covariance ?? 'ridge'; // files written before covariance existed: ridge
    if (!COVARIANCES.includes(covariance as Covariance)) fail('ERR_FILE_FORMAT', `${state.method} state covariance`, `one of ${COVARIANCES.join(', ')}`, describe(covariance));
    // Files written before 'pinv' refused a ridge recorded the unused default beside it: read as 'pinv' alone.
    const ridge = covariance === 'ridge' ? (state.hyperparameters.ridge as number) : undefined;
    const detector = new Mahalanobis(relative, { ...options, ridge, covariance: covariance as Covariance, l2Normalize });
    const dim = state.input.dim;
    detector.#numClasses = state.numClasses;
    detector.#setModel({ classes: modelFromState(state, 'classes', dim), background: relative ? modelFromState(state, 'background', dim) : null });
    return detector;
  }

  protected release(): void {
    this.#native?.classes.dispose();
    this.#native?.background?.dispose();
    this.#native = undefined;
    this.#model = undefined;
  }

  /** Higher = more in-distribution: −min_c MD_c(x) (minus the background MD_0(x) when relative). */
  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const model = this.#native;
    if (!model) notFitted(this.method);
    const dim = model.classes.dim();
    const { array, rows } = rowsOf('features', features, dim);
    const x = this.#normalize ? l2NormalizeRows(array, dim) : array;
    const backend = backendName(this.#options);
    return withCancelFlag(run.signal, (cancelFlag) =>
      native().mahalanobisScore({ features: x, rows, classes: model.classes, background: model.background, backend, cancelFlag, onProgress: run.onProgress }),
    );
  }
}

export const mahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(false, options);
export const relativeMahalanobis = (options?: MahalanobisOptions) => new Mahalanobis(true, options);
/** Mahalanobis++ (Müller & Hein, ICML 2025): the same on L2-normalised features. */
export const mahalanobisPlusPlus = (options?: Omit<MahalanobisOptions, 'l2Normalize'>) => new Mahalanobis(false, { ...options, l2Normalize: true });
export const relativeMahalanobisPlusPlus = (options?: Omit<MahalanobisOptions, 'l2Normalize'>) => new Mahalanobis(true, { ...options, l2Normalize: true });

function mahalanobisSpec(relative: boolean, l2Normalize: boolean): MethodSpec {
  return {
    needs: { features: true, labels: true, head: false },
    fit: (inputs, hyper, options, run) => {
      const detector = new Mahalanobis(relative, { ...options, ridge: hyper.ridge, covariance: hyper.covariance, l2Normalize });
      const numClasses = inputs.numClasses();
      const { batches, dim } = inputs.data;
      if (batches !== undefined) return detector.fit({ batches, numClasses, dim }, run);
      return detector.fit({ features: inputs.features(), labels: inputs.labels(), numClasses, dim }, run);
    },
    restore: Mahalanobis.fromState,
  };
}

/** This file's detectors as the pipeline sees them (lib/ood/method-spec.ts). */
export const MAHALANOBIS_SPECS = {
  mahalanobis: mahalanobisSpec(false, false),
  'relative-mahalanobis': mahalanobisSpec(true, false),
  'mahalanobis++': mahalanobisSpec(false, true),
  'relative-mahalanobis++': mahalanobisSpec(true, true),
} satisfies Partial<Record<Method, MethodSpec>>;
