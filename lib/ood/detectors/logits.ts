// Logit-based detectors: MSP, MaxLogit, Energy, GEN, Entropy, and ReAct (clipped features through a linear head).
// Scores come from logits ({ logits, numClasses }) or from features and the head ({ features, weights, bias }),
// in which case native code forms the logits in row blocks and never stores N×C.
import type { RawLinearHead, RawLogitScoreName } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { describe, fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import { backendName, Detector, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { type LogitMethod, type Method } from '../method-names.js';
import { uniqueNumbers, type Hyperparameters, type MethodSpec } from '../method-spec.js';
import { checkHead, headFromState, headTensors, nativeHead, stateValue, withNativeHead, type HeadInput, type HeadState } from './state.js';
import { BatchDigest, checkSameRows, isBatchesInput, type BatchesInput } from './batch-fit.js';
import { exactPercentile, type ValuePass } from './exact-percentile.js';
import { checkedBatches, requirePasses, type BatchSource } from '../../data/batches.js';

export type { HeadInput };

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

// The native score names and the TypeScript list are one set: a score added to one and not the other does not compile.
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const logitListsAgree: SameSet<LogitMethod, RawLogitScoreName> = true;
void logitListsAgree;

interface Spec {
  kind: LogitMethod;
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
  if ('logits' in input) {
    const { array, rows } = rowsOf('logits', input.logits, C);
    const { kind, temperature, gamma } = spec;
    const topM = spec.topM === 0 ? undefined : spec.topM;
    const backend = backendName(options);
    return withCancelFlag(run.signal, (cancelFlag) =>
      native().scoreLogits({ logits: array, rows, classes: C, kind, temperature, gamma, topM, backend, cancelFlag, onProgress: run.onProgress }),
    );
  }
  const head = checkHead(input);
  const { array } = rowsOf('features', input.features, head.dim);
  return withNativeHead(head, clip, (handle) => scoreHead(spec, handle, array, options, run));
}

/** Scores feature rows (of the head's width, checked by the caller) through a head in native memory. */
function scoreHead(spec: Spec, head: RawLinearHead, features: Float32Array, options: DetectorOptions, run: RunOptions = {}) {
  const { temperature, gamma } = spec;
  const topM = spec.topM === 0 ? undefined : spec.topM;
  const rows = features.length / head.dim();
  const backend = backendName(options);
  return withCancelFlag(run.signal, (cancelFlag) =>
    head.score({ features, rows, kind: spec.kind, temperature, gamma, topM, backend, cancelFlag, onProgress: run.onProgress }),
  );
}

/** Bare rows (for a bound detector) rather than an input object. */
const isRows = (input: unknown): input is FloatArray => input instanceof Float32Array || input instanceof Float64Array;

/** What a logit detector is bound to: a head (it scores features; `native` is the head in native memory) or a class count (it scores logits). */
type Binding = { head: HeadState; native: RawLinearHead } | { numClasses: number };

function bindingInput(binding: Binding | undefined): InputSpec | undefined {
  if (!binding) return undefined;
  return 'head' in binding ? { name: 'features', dim: binding.head.dim } : { name: 'logits', dim: binding.numClasses };
}

/** Scores bare rows of a bound detector: logit rows, or feature rows through the bound head (prepared once). */
function scoreBound(name: string, spec: Spec, binding: Binding | undefined, rows: FloatArray, options: DetectorOptions, run?: RunOptions) {
  if (!binding) {
    fail('ERR_INVALID_ARGUMENT', `${name}.score`, 'a detector bound with fit({ weights, bias, numClasses }) or fit({ numClasses }) to score bare rows', 'an unbound one');
  }
  if ('numClasses' in binding) return scoreWith(spec, Infinity, { logits: rows, numClasses: binding.numClasses }, options, run);
  return scoreHead(spec, binding.native, rowsOf('features', rows, binding.head.dim).array, options, run);
}

function bindingState(binding: Binding | undefined, name: string): { input: InputSpec; numClasses: number; tensors: Record<string, Float32Array> } {
  if (!binding) {
    fail('ERR_INVALID_ARGUMENT', `${name}.save`, 'a bound detector: fit({ weights, bias, numClasses }) or fit({ numClasses }) first', 'an unbound one');
  }
  if ('numClasses' in binding) return { input: { name: 'logits', dim: binding.numClasses }, numClasses: binding.numClasses, tensors: {} };
  return { input: { name: 'features', dim: binding.head.dim }, numClasses: binding.head.classes, tensors: headTensors(binding.head) };
}

function bindingFromState(state: FittedState): Binding {
  if (state.input.name === 'logits') {
    if (state.numClasses !== state.input.dim) fail('ERR_FILE_FORMAT', `${state.method} state`, `numClasses = the logit width ${state.input.dim}`, String(state.numClasses));
    return { numClasses: state.input.dim };
  }
  const head = headFromState(state, state.input.dim);
  return { head, native: nativeHead(head) };
}

/**
 * A detector that needs no statistics: scores logits, or features through a linear head — given per call, or bound
 * once with fit(), after which score() also takes bare Float32Array rows (and the detector can be saved).
 */
export class LogitDetector extends Detector<ScoreInput | FloatArray> {
  readonly method: Method;
  readonly #spec: Spec;
  readonly #options: DetectorOptions;
  #binding: Binding | undefined;

  constructor(spec: Spec, options: DetectorOptions = {}) {
    super();
    this.method = spec.kind;
    this.#spec = spec;
    this.#options = options;
  }

  /** Binds a head (then score() takes feature rows) or a class count (then it takes logit rows). */
  async fit(input: HeadInput | { numClasses: number }): Promise<this> {
    if (input && 'weights' in input) {
      const head = checkHead(input);
      const bound = nativeHead(head);
      this.release();
      this.#binding = { head, native: bound };
      this.recordFit(head.weights, head.bias);
    } else {
      this.release();
      this.#binding = { numClasses: checkInteger('numClasses', input?.numClasses, 1, 1 << 24) };
      this.recordFit();
    }
    return this;
  }

  get input(): InputSpec | undefined {
    return bindingInput(this.#binding);
  }

  /** Higher = more in-distribution. */
  async score(input: ScoreInput | FloatArray, run?: RunOptions): Promise<Float64Array> {
    if (isRows(input)) return scoreBound(this.method, this.#spec, this.#binding, input, this.#options, run);
    return scoreWith(this.#spec, Infinity, input, this.#options, run);
  }

  fittedState(): FittedState {
    const { input, numClasses, tensors } = bindingState(this.#binding, this.method);
    const { temperature, gamma, topM } = this.#spec;
    const hyperparameters: Record<string, number> =
      this.method === 'energy' || this.method === 'entropy' ? { temperature } : this.method === 'gen' ? { gamma, topM } : {};
    return { method: this.method, hyperparameters, input, numClasses, values: {}, tensors };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): LogitDetector {
    const h = state.hyperparameters as { temperature?: number; gamma?: number; topM?: number };
    const makers: Record<LogitMethod, (o: EnergyOptions & GenOptions) => LogitDetector> = { msp, maxlogit: maxLogit, energy, gen, entropy };
    const make = makers[state.method as LogitMethod];
    // topM 0 is "min(100, C)", the default, which the options spell as undefined.
    const detector = make({ ...options, temperature: h.temperature, gamma: h.gamma, topM: h.topM === 0 ? undefined : h.topM });
    detector.#binding = bindingFromState(state);
    return detector;
  }

  protected release(): void {
    if (this.#binding && 'native' in this.#binding) this.#binding.native.dispose();
    this.#binding = undefined;
  }
}

export interface EnergyOptions extends DetectorOptions {
  /** T in T·logsumexp(z/T); default 1. */
  temperature?: number;
}

export interface EntropyOptions extends DetectorOptions {
  /** T in softmax(z/T); default 1. */
  temperature?: number;
}

export interface GenOptions extends DetectorOptions {
  /** γ, default 0.1. */
  gamma?: number;
  /** M, the number of largest probabilities summed; default min(100, C). */
  topM?: number;
}

const defaults = { temperature: 1, gamma: 0.1, topM: 0 };

export const msp = (options?: DetectorOptions) => new LogitDetector({ ...defaults, kind: 'msp' }, options);
export const maxLogit = (options?: DetectorOptions) => new LogitDetector({ ...defaults, kind: 'maxlogit' }, options);
export const energy = (options: EnergyOptions = {}) =>
  new LogitDetector({ ...defaults, kind: 'energy', temperature: positive('temperature', options.temperature, 1) }, options);
export const gen = (options: GenOptions = {}) =>
  new LogitDetector(
    {
      ...defaults,
      kind: 'gen',
      gamma: positive('gamma', options.gamma, 0.1),
      topM: options.topM === undefined ? 0 : checkInteger('topM', options.topM, 1, 1 << 24),
    },
    options,
  );

/** Negative Shannon entropy of softmax(z/T): Σ_c p_c log p_c, between −log C (all logits equal) and 0. */
export const entropy = (options: EntropyOptions = {}) =>
  new LogitDetector({ ...defaults, kind: 'entropy', temperature: positive('temperature', options.temperature, 1) }, options);

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
export class React extends Detector<LinearInput | FloatArray> {
  readonly method = 'react' as const;
  readonly #spec: Spec;
  readonly #options: ReactOptions;
  #clip: number | undefined;
  #head: HeadState | undefined;
  /** The bound head in native memory, with the clip (made when both are known). */
  #native: RawLinearHead | undefined;

  constructor(options: ReactOptions = {}) {
    super();
    this.#options = options;
    this.#spec = { ...defaults, kind: 'energy', temperature: positive('temperature', options.temperature, 1) };
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

  /**
   * Sets the threshold from ID features (any shape: all activations count). With the head (weights, bias,
   * numClasses) it is also bound, so score() takes bare feature rows and the detector can be saved.
   *
   * With `{ batches }` in place of `features` (rows of the head's dim when a head is given, else batches of any
   * length), the percentile is still exact, the same number as the array fit's, in bounded memory: two passes over a
   * re-iterable source (a generator is ERR_INVALID_ARGUMENT), a histogram of the top 16 bits of the values'
   * order-preserving uint32 keys and then one of the low 16 bits inside the bins of the two order statistics that
   * numpy's linear rule interpolates (exact-percentile.ts). The signal is checked between batches; the fit digest is
   * batch-fit.ts's BatchDigest of the first pass.
   */
  async fit(input: ({ features: FloatArray } | BatchesInput) & Partial<HeadInput>, run: RunOptions = {}): Promise<this> {
    if (isBatchesInput(input)) return this.#fitBatches(input, run);
    const features = checkFloat32('features', input?.features);
    if (features.length === 0) fail('ERR_SHAPE', 'features', 'at least one element', '0 elements');
    const bad = features.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail('ERR_NOT_FINITE', `features[${bad}]`, 'a finite number', String(features[bad]));
    const head = input.weights === undefined ? undefined : checkHead(input as HeadInput);
    if (head && features.length % head.dim !== 0) fail('ERR_SHAPE', 'features', `rows of the head's dim ${head.dim}`, `${features.length} elements`);
    this.#bind(percentile(features, this.#options.percentile ?? 90), head);
    this.recordFit(features, head?.weights, head?.bias);
    return this;
  }

  async #fitBatches(input: BatchesInput & Partial<HeadInput>, run: RunOptions): Promise<this> {
    const head = input.weights === undefined ? undefined : checkHead(input as HeadInput);
    requirePasses(input.batches, 2, 'batches', "ReAct's exact percentile takes two passes over the activations");
    const digest = new BatchDigest(false);
    this.#bind(await exactPercentile(activationPasses(input.batches, head?.dim ?? 1, digest, run.signal), this.#options.percentile ?? 90), head);
    this.recordDigest(digest.digest(head?.weights, head?.bias));
    return this;
  }

  /** Sets the clip and the head (if any), and the head in native memory with that clip. */
  #bind(clip: number, head: HeadState | undefined): void {
    const bound = head && nativeHead(head, clip);
    this.release();
    this.#clip = clip;
    this.#head = head;
    this.#native = bound;
  }

  get input(): InputSpec | undefined {
    return this.#clip === undefined || !this.#head ? undefined : { name: 'features', dim: this.#head.dim };
  }

  async score(input: LinearInput | FloatArray, run?: RunOptions): Promise<Float64Array> {
    if (this.#clip === undefined) notFitted('react');
    if (isRows(input)) return scoreBound('react', this.#spec, this.#head && this.#native && { head: this.#head, native: this.#native }, input, this.#options, run);
    if (!input || !('features' in input)) fail('ERR_INVALID_ARGUMENT', 'input', '{ features, weights, numClasses }', describe(input));
    return scoreWith(this.#spec, this.#clip, input, this.#options, run);
  }

  fittedState(): FittedState {
    if (this.#clip === undefined) notFitted('react');
    const { input, numClasses, tensors } = bindingState(this.#head && this.#native && { head: this.#head, native: this.#native }, 'react');
    return {
      method: this.method,
      hyperparameters: { temperature: this.#spec.temperature, percentile: this.#options.percentile ?? 90 },
      input,
      numClasses,
      values: { clip: this.#clip },
      tensors,
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): React {
    const { temperature, percentile } = state.hyperparameters as { temperature: number; percentile: number };
    const clip = stateValue(state, 'clip');
    const detector = new React({ ...options, temperature, percentile, clip });
    if (state.input.name !== 'features') fail('ERR_FILE_FORMAT', 'react state input', 'features', state.input.name);
    detector.#bind(clip, headFromState(state, state.input.dim));
    return detector;
  }

  protected release(): void {
    this.#native?.dispose();
    this.#native = undefined;
    this.#clip = undefined;
    this.#head = undefined;
  }
}

/**
 * The passes exactPercentile makes over batches of activations (rows of `dim`): the first checks finiteness and
 * feeds the digest, the second must see as many values.
 */
function activationPasses(source: BatchSource, dim: number, digest: BatchDigest, signal: AbortSignal | undefined): ValuePass {
  let first: number | undefined;
  return async (visit) => {
    let values = 0;
    for await (const batch of checkedBatches(source, { dim, signal })) {
      if (first === undefined) {
        const bad = batch.features.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) fail('ERR_NOT_FINITE', `features[${batch.offset * dim + bad}]`, 'a finite number', String(batch.features[bad]));
        digest.add(batch);
      }
      visit(batch.features);
      values += batch.features.length;
    }
    if (first === undefined) first = values;
    else checkSameRows('batches', first, values, 'values');
  };
}

export const react = (options?: ReactOptions) => new React(options);

/** A logit detector for the pipeline: bound to the head when one is given, else to the logit width. */
function logitSpec(make: (hyper: Hyperparameters, options: DetectorOptions) => LogitDetector, rest: Pick<MethodSpec, 'sweepGrid'> = {}): MethodSpec {
  return {
    needs: { features: false, labels: false, head: false },
    fit: (inputs, hyper, options) => {
      const detector = make(hyper, options);
      return inputs.data.head ? detector.fit(inputs.data.head) : detector.fit({ numClasses: inputs.logitWidth() });
    },
    restore: LogitDetector.fromState,
    ...rest,
  };
}

/** This file's detectors as the pipeline sees them (lib/ood/method-spec.ts). */
export const LOGIT_SPECS = {
  msp: logitSpec((_, options) => msp(options)),
  maxlogit: logitSpec((_, options) => maxLogit(options)),
  energy: logitSpec((hyper, options) => energy({ ...options, temperature: hyper.temperature })),
  gen: logitSpec((hyper, options) => gen({ ...options, gamma: hyper.gamma, topM: hyper.topM }), {
    sweepGrid: ({ numClasses }) => {
      const ms = uniqueNumbers([0, 5, 10].filter((m) => m < numClasses)); // 0: every class (the default)
      return [0.1, 0.01, 0.5, 1].flatMap((gamma) => ms.map((topM) => ({ gamma, topM })));
    },
  }),
  entropy: logitSpec((hyper, options) => entropy({ ...options, temperature: hyper.temperature })),
  react: {
    needs: { features: true, labels: false, head: true },
    fit: (inputs, hyper, options, run) => react({ ...options, temperature: hyper.temperature, percentile: hyper.percentile }).fit(inputs.rowsWithHead(), run),
    restore: React.fromState,
    benchDefaults: () => ({ percentile: 90 }),
    sweepGrid: (_, base) => uniqueNumbers([base.percentile!, 80, 85, 95, 99]).map((percentile) => ({ percentile })),
  },
} satisfies Partial<Record<Method, MethodSpec>>;
