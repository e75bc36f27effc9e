// Logit-based detectors: MSP, MaxLogit, Energy, GEN, and ReAct (clipped features through a linear head).
// Scores come from logits ({ logits, numClasses }) or from features and the head ({ features, weights, bias }),
// in which case native code forms the logits in row blocks and never stores N×C.
import type { LogitScoreId } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import { backendId, notFitted, rowsOf, type DetectorOptions, type RunOptions } from './common.js';

export interface LogitsInput {
  /** N×C, row-major (Float64Array is converted to float32). */
  logits: FloatArray;
  numClasses: number;
}

export interface LinearInput {
  /** N×d, row-major. */
  features: FloatArray;
  /** The head: C×d row-major; logits = features Wᵀ + bias. */
  weights: FloatArray;
  bias?: FloatArray;
  numClasses: number;
}

export type ScoreInput = LogitsInput | LinearInput;

interface Spec {
  kind: LogitScoreId;
  temperature: number;
  gamma: number;
  topM: number;
}

function positive(what: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail('ERR_INVALID_ARGUMENT', what, 'a finite number > 0', describe(v));
  return v;
}

async function scoreWith(spec: Spec, clip: number, input: ScoreInput, options: DetectorOptions, run: RunOptions = {}) {
  const C = checkInteger('numClasses', input?.numClasses, 1, 1 << 24);
  const backend = backendId(options);
  if ('logits' in input) {
    const { array, rows } = rowsOf('logits', input.logits, C);
    return withCancelFlag(run.signal, (flag) =>
      native().scoreLogits(array, rows, C, spec.kind, spec.temperature, spec.gamma, spec.topM, backend, flag, run.onProgress),
    );
  }
  const weights = checkFloat32('weights', input.weights);
  const dim = weights.length / C;
  if (!Number.isInteger(dim) || dim < 1) fail('ERR_SHAPE', 'weights', `numClasses (${C}) × dim elements`, `${weights.length} elements`);
  const bias = input.bias === undefined ? null : checkFloat32('bias', input.bias);
  if (bias && bias.length !== C) fail('ERR_SHAPE', 'bias', `${C} elements (numClasses)`, `${bias.length} elements`);
  const { array, rows } = rowsOf('features', input.features, dim);
  return withCancelFlag(run.signal, (flag) =>
    native().linearScores(array, rows, dim, weights, bias, C, clip, spec.kind, spec.temperature, spec.gamma, spec.topM, backend, flag, run.onProgress),
  );
}

/** A detector that needs no statistics: scores logits, or features through a linear head. */
export class LogitDetector {
  readonly #spec: Spec;
  readonly #options: DetectorOptions;

  constructor(spec: Spec, options: DetectorOptions = {}) {
    this.#spec = spec;
    this.#options = options;
  }

  /** Higher = more in-distribution. */
  score(input: ScoreInput, run?: RunOptions): Promise<Float64Array> {
    return scoreWith(this.#spec, Infinity, input, this.#options, run);
  }
}

export interface EnergyOptions extends DetectorOptions {
  /** T in T·logsumexp(z/T); default 1. */
  temperature?: number;
}

export interface GenOptions extends DetectorOptions {
  /** γ, default 0.1. */
  gamma?: number;
  /** M, the number of largest probabilities summed; default min(100, C). */
  topM?: number;
}

const defaults = { temperature: 1, gamma: 0.1, topM: 0 };

export const msp = (options?: DetectorOptions) => new LogitDetector({ ...defaults, kind: 0 }, options);
export const maxLogit = (options?: DetectorOptions) => new LogitDetector({ ...defaults, kind: 1 }, options);
export const energy = (options: EnergyOptions = {}) =>
  new LogitDetector({ ...defaults, kind: 2, temperature: positive('temperature', options.temperature, 1) }, options);
export const gen = (options: GenOptions = {}) =>
  new LogitDetector(
    {
      ...defaults,
      kind: 3,
      gamma: positive('gamma', options.gamma, 0.1),
      topM: options.topM === undefined ? 0 : checkInteger('topM', options.topM, 1, 1 << 24),
    },
    options,
  );

export interface ReactOptions extends EnergyOptions {
  /** Fixed clipping threshold; otherwise fit() sets it to the `percentile` of the fit features' activations. */
  clip?: number;
  /** Percentile (0–100) of all fit activations, NumPy's linear interpolation; default 90 (Sun et al. 2021). */
  percentile?: number;
}

/** q-th percentile (0..100) of the values, linear interpolation between order statistics (numpy.percentile). */
function percentile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort(); // a float32 copy: half the memory of float64, same order statistics
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** ReAct + Energy: features clipped at a threshold before the linear head, then the energy score. */
export class React {
  readonly #spec: Spec;
  readonly #options: ReactOptions;
  #clip: number | undefined;

  constructor(options: ReactOptions = {}) {
    this.#options = options;
    this.#spec = { ...defaults, kind: 2, temperature: positive('temperature', options.temperature, 1) };
    if (options.clip !== undefined) {
      if (typeof options.clip !== 'number' || !Number.isFinite(options.clip)) fail('ERR_INVALID_ARGUMENT', 'clip', 'a finite number', describe(options.clip));
      this.#clip = options.clip;
    }
    const p = options.percentile ?? 90;
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) fail('ERR_INVALID_ARGUMENT', 'percentile', 'a number in [0, 100]', describe(p));
  }

  /** The clipping threshold in use (undefined before fit when none was given). */
  get clip(): number | undefined {
    return this.#clip;
  }

  /** Sets the threshold from ID features (any shape: all activations count). */
  async fit(input: { features: FloatArray }): Promise<this> {
    const features = checkFloat32('features', input?.features);
    if (features.length === 0) fail('ERR_SHAPE', 'features', 'at least one element', '0 elements');
    const bad = features.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail('ERR_NOT_FINITE', `features[${bad}]`, 'a finite number', String(features[bad]));
    this.#clip = percentile(features, this.#options.percentile ?? 90);
    return this;
  }

  score(input: LinearInput, run?: RunOptions): Promise<Float64Array> {
    if (this.#clip === undefined) notFitted('react');
    if (!input || !('features' in input)) fail('ERR_INVALID_ARGUMENT', 'input', '{ features, weights, numClasses }', describe(input));
    return scoreWith(this.#spec, this.#clip, input, this.#options, run);
  }
}

export const react = (options?: ReactOptions) => new React(options);
