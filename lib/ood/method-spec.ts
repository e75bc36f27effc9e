// What the pipeline (`ncod fit`, `ncod score --method`, saved detector files, `ncod bench ood` and its sweep) needs to
// know about a detector, declared once beside the detector in its family file (lib/ood/detectors/*.ts, the
// `*_SPECS` records) and collected by method name in lib/ood/detectors.ts METHOD_SPECS.
import type { BatchSource } from '../data/batches.js';
import { fail } from '../errors.js';
import type { Detector, DetectorOptions, FittedState } from './detectors/common.js';
import type { HeadInput } from './detectors/state.js';
import type { Covariance, Method } from './method-names.js';

export interface Hyperparameters {
  temperature?: number;
  gamma?: number;
  topM?: number;
  k?: number;
  principalDim?: number;
  percentile?: number;
  alpha?: number;
  ridge?: number;
  /** The Mahalanobis variants: 'ridge' (default) or 'pinv'. */
  covariance?: Covariance;
}

export interface MethodFitData {
  /** ID (training) features, N×dim; statistics-based methods need them (or `batches`). */
  features?: Float32Array;
  /**
   * The same rows (with labels where the method needs them) as batches, e.g. a file source: every statistics-based
   * fit then holds one batch at a time (KNN appends each batch to its native bank, which has no size limit).
   */
  batches?: BatchSource;
  dim?: number;
  labels?: Int32Array;
  numClasses?: number;
  head?: HeadInput;
  /** For logit methods without a head: the logit width they will score. */
  logitWidth?: number;
}

/** The names of the inputs, as the caller's user gives them, for "needs" messages. */
export interface InputNames {
  features: string;
  labels: string;
  head: string;
  principalDim: string;
  logitWidth: string;
}

/** The fit data of one method, each input read through a getter that names the missing input (ERR_INVALID_ARGUMENT). */
export class MethodInputs {
  constructor(
    readonly method: Method,
    readonly data: MethodFitData,
    private readonly names: InputNames,
  ) {}

  #need<T>(value: T | undefined, what: keyof InputNames): T {
    if (value === undefined) fail('ERR_INVALID_ARGUMENT', this.names[what], `a value (method ${this.method} needs it)`, 'none');
    return value;
  }

  features(): Float32Array {
    return this.#need(this.data.features, 'features');
  }
  /** The fit rows: the batches when given, else the in-memory features. */
  rows(): { batches: BatchSource } | { features: Float32Array } {
    return this.data.batches !== undefined ? { batches: this.data.batches } : { features: this.features() };
  }
  /** The rows and the head, as the head-based detectors' fit() takes them. */
  rowsWithHead(): ({ batches: BatchSource } | { features: Float32Array }) & HeadInput {
    return { ...this.rows(), ...this.head() };
  }
  /** The feature dimension; missing features are what the user is told about. */
  dim(): number {
    return this.#need(this.data.dim, 'features');
  }
  labels(): Int32Array {
    return this.#need(this.data.labels, 'labels');
  }
  numClasses(): number {
    return this.#need(this.data.numClasses, 'labels');
  }
  head(): HeadInput {
    return this.#need(this.data.head, 'head');
  }
  logitWidth(): number {
    return this.#need(this.data.logitWidth, 'logitWidth');
  }
  /** A hyperparameter the method cannot do without, named as the caller names it. */
  principalDim(hyper: Hyperparameters): number {
    return this.#need(hyper.principalDim, 'principalDim');
  }
}

/** The sizes a default or a grid depends on: the layer's feature dimension, the fit rows and the classes. */
export interface FitShape {
  dim: number;
  rows: number;
  numClasses: number;
}

export interface MethodSpec {
  /** The inputs fit() needs: the bench runs a method on a layer only when the layer has them. */
  needs: { features: boolean; labels: boolean; head: boolean };
  /** The smallest feature dimension the method can fit (ViM and Residual need a residual space); default 1. */
  minDim?: number;
  /** A fitted (or, for logit methods, bound) detector with these hyperparameters (undefined ones take the defaults). */
  fit(inputs: MethodInputs, hyper: Hyperparameters, backend: DetectorOptions, run: { signal?: AbortSignal }): Promise<Detector<Float32Array>>;
  /** The detector a saved file's state describes (lib/ood/detector-file.ts). */
  restore(state: FittedState, options: DetectorOptions): Detector<never> | Promise<Detector<never>>;
  /** The hyperparameters `ncod bench ood` uses when it does not sweep; {} when the method's own defaults serve. */
  benchDefaults?(shape: Pick<FitShape, 'dim' | 'rows'>): Hyperparameters;
  /** The `--sweep` grid, starting with `base` (benchDefaults' point); absent for a method without one. */
  sweepGrid?(shape: FitShape, base: Hyperparameters): Hyperparameters[];
}

/** Grid values without repeats, in first-seen order (the default stays first). */
export const uniqueNumbers = (values: number[]): number[] => [...new Set(values)];
