// Detectors built on principal directions of the ID features, orchestrated over the native kernels:
//   ViM (Wang et al. 2022):      energy(x) − α·‖P_null (x − u)‖, u = −pinv(W)·b, P_null the directions after the
//                                top `principalDim`, α = mean train max-logit / mean train residual norm.
//   Residual (same paper):       −‖P_null (x − u)‖.
//   NECO (Ammar et al. 2024):    ‖P_D z‖ / ‖z‖ · maxLogit(x) with z = (x − μ)/σ (StandardScaler) and P_D the top
//                                `principalDim` PCA directions of the standardised ID features.
// Norms come from the whitened-distance kernel (one centre at the origin, "whitening" = the projection rows); each
// score is one native call (subspaceScores), the fit's α two.
import type { RawBackendName, RawLinearHead, RawWhitenedCentres, RawWhitenedModel } from '../../../binding.js';
import { withCancelFlag } from '../../abort.js';
import { fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import { backendName, Detector, digestOf, notFitted, rowsOf, type DetectorOptions, type FittedState, type InputSpec, type RunOptions } from './common.js';
import { checkHead, headFromState, headTensors, modelFromState, modelTensors, nativeHead, nativeModel, stateTensor, stateValue, type HeadState as Head } from './state.js';
import { accumulateMoments, BatchDigest, checkSameRows, isBatchesInput, type BatchesInput } from './batch-fit.js';
import { checkedBatches, requirePasses } from '../../data/batches.js';
import type { RawSubspace } from '../../../binding.js';
import type { Method } from '../method-names.js';
import { uniqueNumbers, type MethodSpec } from '../method-spec.js';

export { checkHead };

export interface SubspaceOptions extends DetectorOptions {
  /** The number of principal directions: ViM/Residual drop them (keep the rest), NECO keeps them. */
  principalDim: number;
}

export interface NecoOptions extends SubspaceOptions {
  /** Multiply the ratio by the max logit (NECO's default for CNNs); default true. */
  multiplyMaxLogit?: boolean;
}

export interface HeadFitInput {
  /** N×d ID (training) features, row-major (Float64Array is converted to float32). */
  features: FloatArray;
  /** The classifier head, C×d row-major; logits = x Wᵀ + b. */
  weights: FloatArray;
  bias?: FloatArray;
  numClasses: number;
}

/** The batch form: batches of ID feature rows (labels, if present, are ignored) in place of `features`. */
export interface HeadBatchFitInput extends BatchesInput {
  weights: FloatArray;
  bias?: FloatArray;
  numClasses: number;
}

export type SubspaceFitInput = HeadFitInput | HeadBatchFitInput;

/**
 * The principal directions from batches: one pass of one-class moments about the first batch's mean (an
 * NcAccumulator), then the same derivation as subspaceFit (native subspaceFitMoments). O(d²) memory.
 */
async function subspaceFromBatches(
  input: HeadBatchFitInput,
  h: Head,
  withHead: boolean,
  standardise: boolean,
  backend: RawBackendName,
  run: RunOptions,
  digest: BatchDigest,
): Promise<{ sub: RawSubspace; rows: number }> {
  const m = await accumulateMoments(input.batches, { dim: h.dim, signal: run.signal, backend, digest });
  const head = withHead ? { weights: h.weights, bias: h.bias, classes: h.classes } : {};
  const sub = await native().subspaceFitMoments({ shift: m.shift, count: m.counts[0]!, sums: m.sums, scatter: m.scatter, dim: h.dim, ...head, standardise, backend });
  return { sub, rows: m.rows };
}

/** A one-centre model whose distance is ‖rows·(x − shift)‖², rows = eigenvector rows [from, to) scaled per column. */
function projectionModel(shift: Float64Array, vectors: Float64Array, dim: number, from: number, to: number, scale?: Float64Array): RawWhitenedModel {
  const dims = to - from;
  const whitening = vectors.slice(from * dim, to * dim);
  if (scale) for (let k = 0; k < whitening.length; k++) whitening[k] /= scale[k % dim];
  return { dim, dims, count: 1, shift, whitening, centres: new Float64Array(dims) };
}

/** The fitted head and projection in native memory, prepared once per backend for every score. */
interface NativeState {
  head: RawLinearHead;
  projection: RawWhitenedCentres;
}

function nativeState(h: Head, projection: RawWhitenedModel): NativeState {
  const head = nativeHead(h);
  try {
    return { head, projection: nativeModel(projection) };
  } catch (error) {
    head.dispose();
    throw error;
  }
}

function disposeState(state: NativeState | undefined): void {
  state?.head.dispose();
  state?.projection.dispose();
}

// The fit's α needs the train residual norms and max logits apart (the scores below combine them natively).
async function sqNorms(features: Float32Array, rows: number, model: RawWhitenedCentres, backend: RawBackendName, run: RunOptions): Promise<Float64Array> {
  const negative = await withCancelFlag(run.signal, (cancelFlag) =>
    native().mahalanobisScore({ features, rows, classes: model, backend, cancelFlag, onProgress: run.onProgress }),
  );
  return negative.map((v) => -v); // the kernel returns −distance²
}

function maxLogits(h: RawLinearHead, features: Float32Array, rows: number, backend: RawBackendName, run: RunOptions) {
  return withCancelFlag(run.signal, (cancelFlag) => h.score({ features, rows, kind: 'maxlogit', backend, cancelFlag }));
}

/** One native call per score (native/core/detectors.h subspace_scores). */
function subspaceScores(
  features: Float32Array,
  rows: number,
  state: NativeState,
  spec: { kind: 'vim' | 'residual' | 'neco'; alpha?: number; shift?: Float64Array; scale?: Float64Array; multiplyMaxLogit?: boolean },
  options: DetectorOptions,
  run: RunOptions,
): Promise<Float64Array> {
  return withCancelFlag(run.signal, (cancelFlag) =>
    native().subspaceScores({
      features,
      rows,
      projection: state.projection,
      head: state.head,
      ...spec,
      backend: backendName(options),
      cancelFlag,
      onProgress: run.onProgress,
    }),
  );
}

type VimFitted = { head: Head; residual: RawWhitenedModel; alpha: number; native: NativeState };
type NecoFitted = { head: Head; kept: RawWhitenedModel; shift: Float64Array; scale: Float64Array; native: NativeState };

const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;

/** ViM (withEnergy) or Residual (without). */
export class Vim extends Detector<FloatArray> {
  readonly method: 'vim' | 'residual';
  readonly #principalDim: number;
  readonly #withEnergy: boolean;
  readonly #options: DetectorOptions;
  #fitted: VimFitted | undefined;

  constructor(withEnergy: boolean, options: SubspaceOptions) {
    super();
    this.method = withEnergy ? 'vim' : 'residual';
    this.#withEnergy = withEnergy;
    this.#principalDim = checkInteger('principalDim', options?.principalDim, 0);
    this.#options = options;
  }

  /** α of ViM (1 for Residual); undefined before fit. */
  get alpha(): number | undefined {
    return this.#fitted?.alpha;
  }

  /**
   * Fits the residual space (and ViM's α). With `{ batches }`: pass 1 accumulates the moments (O(d²) memory) and
   * derives the same subspace natively; ViM's α (mean train max-logit / mean residual norm) needs that residual space,
   * so it takes a second pass, batch by batch, and a re-iterable source (a generator is ERR_INVALID_ARGUMENT). Residual
   * needs one pass. The signal is checked between batches; the fit digest is batch-fit.ts's BatchDigest.
   */
  async fit(input: SubspaceFitInput, run: RunOptions = {}): Promise<this> {
    const h = checkHead(input);
    if (isBatchesInput(input)) return this.#fitBatches(input, h, run);
    const { array, rows } = rowsOf('features', input.features, h.dim);
    this.#checkPrincipalDim(h.dim);
    const backend = backendName(this.#options);
    const sub = await withCancelFlag(run.signal, (cancelFlag) =>
      native().subspaceFit({ features: array, rows, dim: h.dim, weights: h.weights, bias: h.bias, classes: h.classes, standardise: false, backend, cancelFlag, onProgress: run.onProgress }),
    );
    const residual = projectionModel(sub.shift, sub.eigenvectors, h.dim, this.#principalDim, h.dim);
    const state = nativeState(h, residual);
    let alpha = 1;
    try {
      if (this.#withEnergy) {
        const norms = (await sqNorms(array, rows, state.projection, backend, run)).map(Math.sqrt);
        alpha = mean(await maxLogits(state.head, array, rows, backend, run)) / mean(norms);
        if (!Number.isFinite(alpha)) fail('ERR_INVALID_ARGUMENT', 'features', 'a non-zero residual outside the principal subspace', 'zero residuals');
      }
    } catch (error) {
      disposeState(state);
      throw error;
    }
    this.#setFitted({ head: h, residual, alpha, native: state });
    this.recordFit(array, h.weights, h.bias);
    return this;
  }

  #checkPrincipalDim(dim: number): void {
    if (this.#principalDim >= dim) {
      fail('ERR_INVALID_ARGUMENT', 'principalDim', `an integer in [0, ${dim - 1}] (below the feature dim)`, String(this.#principalDim));
    }
  }

  async #fitBatches(input: HeadBatchFitInput, h: Head, run: RunOptions): Promise<this> {
    this.#checkPrincipalDim(h.dim);
    if (this.#withEnergy) requirePasses(input.batches, 2, 'batches', "ViM's α needs a second pass over the data with the fitted residual space");
    const backend = backendName(this.#options);
    const digest = new BatchDigest(false);
    const { sub, rows } = await subspaceFromBatches(input, h, true, false, backend, run, digest);
    const residual = projectionModel(sub.shift, sub.eigenvectors, h.dim, this.#principalDim, h.dim);
    const state = nativeState(h, residual);
    let alpha = 1;
    try {
      if (this.#withEnergy) alpha = await this.#alphaFromBatches(input, h, state, rows, run);
    } catch (error) {
      disposeState(state);
      throw error;
    }
    this.#setFitted({ head: h, residual, alpha, native: state });
    this.recordDigest(digest.digest(h.weights, h.bias));
    return this;
  }

  /** Pass 2: the sums of max-logits and residual norms, in stream order (the array fit's means, summed the same way). */
  async #alphaFromBatches(input: HeadBatchFitInput, h: Head, state: NativeState, rows: number, run: RunOptions): Promise<number> {
    const backend = backendName(this.#options);
    let logitSum = 0;
    let normSum = 0;
    let seen = 0;
    for await (const batch of checkedBatches(input.batches, { dim: h.dim, signal: run.signal })) {
      const norms = await sqNorms(batch.features, batch.rows, state.projection, backend, { signal: run.signal });
      const logits = await maxLogits(state.head, batch.features, batch.rows, backend, run);
      for (let i = 0; i < batch.rows; i++) {
        normSum += Math.sqrt(norms[i]);
        logitSum += logits[i];
      }
      seen += batch.rows;
    }
    checkSameRows('batches', rows, seen);
    const alpha = logitSum / rows / (normSum / rows);
    if (!Number.isFinite(alpha)) fail('ERR_INVALID_ARGUMENT', 'features', 'a non-zero residual outside the principal subspace', 'zero residuals');
    return alpha;
  }

  #setFitted(fitted: VimFitted): void {
    this.release();
    this.#fitted = fitted;
  }

  get input(): InputSpec | undefined {
    return this.#fitted && { name: 'features', dim: this.#fitted.head.dim };
  }

  fittedState(): FittedState {
    const f = this.#fitted;
    if (!f) notFitted(this.method);
    const residual = modelTensors('residual', f.residual);
    return {
      method: this.method,
      hyperparameters: { principalDim: this.#principalDim },
      input: { name: 'features', dim: f.head.dim },
      numClasses: f.head.classes,
      values: { ...residual.values, alpha: f.alpha },
      tensors: { ...headTensors(f.head), ...residual.tensors },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): Vim {
    const detector = new Vim(state.method === 'vim', { ...options, principalDim: state.hyperparameters.principalDim as number });
    const dim = state.input.dim;
    const head = headFromState(state, dim);
    const residual = modelFromState(state, 'residual', dim);
    const alpha = stateValue(state, 'alpha');
    detector.#setFitted({ head, residual, alpha, native: nativeState(head, residual) });
    return detector;
  }

  protected release(): void {
    disposeState(this.#fitted?.native);
    this.#fitted = undefined;
  }

  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const f = this.#fitted;
    if (!f) notFitted(this.#withEnergy ? 'vim' : 'residual');
    const { array, rows } = rowsOf('features', features, f.head.dim);
    const spec = this.#withEnergy ? { kind: 'vim' as const, alpha: f.alpha } : { kind: 'residual' as const };
    return subspaceScores(array, rows, f.native, spec, this.#options, run);
  }
}

export class Neco extends Detector<FloatArray> {
  readonly method = 'neco' as const;
  readonly #principalDim: number;
  readonly #multiply: boolean;
  readonly #options: DetectorOptions;
  #fitted: NecoFitted | undefined;

  constructor(options: NecoOptions) {
    super();
    this.#principalDim = checkInteger('principalDim', options?.principalDim, 1);
    this.#multiply = options.multiplyMaxLogit ?? true;
    if (typeof this.#multiply !== 'boolean') fail('ERR_INVALID_ARGUMENT', 'multiplyMaxLogit', 'a boolean', String(this.#multiply));
    this.#options = options;
  }

  /**
   * Fits the standardised PCA. With `{ batches }`: one pass of moments (O(d²) memory, any source), the same
   * standardisation and eigenvectors derived natively; the fit digest is batch-fit.ts's BatchDigest.
   */
  async fit(input: SubspaceFitInput, run: RunOptions = {}): Promise<this> {
    const h = checkHead(input);
    const checkPrincipalDim = () => {
      if (this.#principalDim > h.dim) {
        fail('ERR_INVALID_ARGUMENT', 'principalDim', `an integer in [1, ${h.dim}] (at most the feature dim)`, String(this.#principalDim));
      }
    };
    let sub: RawSubspace;
    let digest: string;
    if (isBatchesInput(input)) {
      checkPrincipalDim();
      const stream = new BatchDigest(false);
      sub = (await subspaceFromBatches(input, h, false, true, backendName(this.#options), run, stream)).sub;
      digest = stream.digest(h.weights, h.bias);
    } else {
      const { array, rows } = rowsOf('features', input.features, h.dim);
      checkPrincipalDim();
      const backend = backendName(this.#options);
      sub = await withCancelFlag(run.signal, (cancelFlag) =>
        native().subspaceFit({ features: array, rows, dim: h.dim, standardise: true, backend, cancelFlag, onProgress: run.onProgress }),
      );
      digest = digestOf(array, h.weights, h.bias);
    }
    const kept = projectionModel(sub.shift, sub.eigenvectors, h.dim, 0, this.#principalDim, sub.scale);
    this.#setFitted({ head: h, kept, shift: sub.shift, scale: sub.scale, native: nativeState(h, kept) });
    this.recordDigest(digest);
    return this;
  }

  #setFitted(fitted: NecoFitted): void {
    this.release();
    this.#fitted = fitted;
  }

  get input(): InputSpec | undefined {
    return this.#fitted && { name: 'features', dim: this.#fitted.head.dim };
  }

  fittedState(): FittedState {
    const f = this.#fitted;
    if (!f) notFitted(this.method);
    const kept = modelTensors('kept', f.kept);
    return {
      method: this.method,
      hyperparameters: { principalDim: this.#principalDim, multiplyMaxLogit: this.#multiply },
      input: { name: 'features', dim: f.head.dim },
      numClasses: f.head.classes,
      values: kept.values,
      tensors: { ...headTensors(f.head), ...kept.tensors, 'standardise.shift': f.shift, 'standardise.scale': f.scale },
    };
  }

  static fromState(state: FittedState, options: DetectorOptions = {}): Neco {
    const { principalDim, multiplyMaxLogit } = state.hyperparameters;
    const detector = new Neco({ ...options, principalDim: principalDim as number, multiplyMaxLogit: multiplyMaxLogit as boolean });
    const dim = state.input.dim;
    const head = headFromState(state, dim);
    const kept = modelFromState(state, 'kept', dim);
    detector.#setFitted({
      head,
      kept,
      shift: stateTensor(state, 'standardise.shift', Float64Array, dim),
      scale: stateTensor(state, 'standardise.scale', Float64Array, dim),
      native: nativeState(head, kept),
    });
    return detector;
  }

  protected release(): void {
    disposeState(this.#fitted?.native);
    this.#fitted = undefined;
  }

  async score(features: FloatArray, run: RunOptions = {}): Promise<Float64Array> {
    const f = this.#fitted;
    if (!f) notFitted('neco');
    const { array, rows } = rowsOf('features', features, f.head.dim);
    const spec = { kind: 'neco' as const, shift: f.shift, scale: f.scale, multiplyMaxLogit: this.#multiply };
    return subspaceScores(array, rows, f.native, spec, this.#options, run);
  }
}

export const vim = (options: SubspaceOptions) => new Vim(true, options);
export const residual = (options: SubspaceOptions) => new Vim(false, options);
export const neco = (options: NecoOptions) => new Neco(options);

/**
 * A principal-subspace detector for the pipeline. The bench takes half the feature dimension by default (ViM's
 * D ≈ d/2 at d = 2048); ViM and Residual need a residual space, D < d.
 */
function subspaceSpec(make: (options: SubspaceOptions) => Vim | Neco, restore: MethodSpec['restore'], residualSpace: boolean): MethodSpec {
  return {
    needs: { features: true, labels: false, head: true },
    minDim: residualSpace ? 2 : 1,
    fit: (inputs, hyper, options, run) => make({ ...options, principalDim: inputs.principalDim(hyper) }).fit(inputs.rowsWithHead(), run),
    restore,
    benchDefaults: ({ dim }) => ({ principalDim: Math.max(1, Math.floor(dim / 2)) }),
    sweepGrid: ({ dim }, base) => {
      const top = residualSpace ? dim - 1 : dim;
      const dims = [base.principalDim!, ...[0.125, 0.25, 0.75, 0.9].map((f) => Math.round(f * dim))].map((p) => Math.max(1, Math.min(p, top)));
      return uniqueNumbers(dims).map((principalDim) => ({ principalDim }));
    },
  };
}

/** This file's detectors as the pipeline sees them (lib/ood/method-spec.ts). */
export const SUBSPACE_SPECS = {
  vim: subspaceSpec(vim, Vim.fromState, true),
  residual: subspaceSpec(residual, Vim.fromState, true),
  neco: subspaceSpec(neco, Neco.fromState, false),
} satisfies Partial<Record<Method, MethodSpec>>;
