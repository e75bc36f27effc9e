// The paper's detection and transfer protocol (METHOD.md §5): a linear probe trained on frozen features
// (AdamW lr 1e-3, weight decay 0, label smoothing 0.1, 30 epochs, batch 256, weights N(0, 0.01²), bias 0),
// optionally on L2-normalised features. Its energy logsumexp_c f_c(x) is the OOD score (higher = more ID);
// its test accuracy on another dataset's labels measures OOD generalisation.
import type { BackendName } from '../backend.js';
import { describe, fail } from '../errors.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape } from '../validate.js';
import { Trainer, type EpochStats, type RunOptions } from '../train/trainer.js';

export interface ProbeOptions {
  features: Float32Array;
  labels: Int32Array;
  numClasses: number;
  dim?: number;
  /** L2-normalise each row before the probe (the paper does so for projector features). */
  normalize?: boolean;
  epochs?: number;
  batch?: number;
  lr?: number;
  weightDecay?: number;
  labelSmoothing?: number;
  seed?: number;
  backend?: BackendName;
  signal?: AbortSignal;
  onEpoch?: (stats: EpochStats) => void;
}

/** Rows scaled to unit L2 norm (rows of zeros stay zero), as a new array. */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  checkFloat32('features', x);
  // An integer dim >= 1 that divides the length: 0 or a fraction would loop without end or mis-index rows.
  if (!Number.isSafeInteger(dim) || dim < 1 || x.length % dim !== 0) {
    fail('ERR_SHAPE', 'dim', `a positive integer dividing the length ${x.length}`, describe(dim));
  }
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = x[r * dim + j] * scale;
  }
  return out;
}

export class LinearProbe {
  readonly dim: number;
  readonly normalize: boolean;
  #trainer: Trainer;

  private constructor(trainer: Trainer, dim: number, normalize: boolean) {
    this.#trainer = trainer;
    this.dim = dim;
    this.normalize = normalize;
  }

  static async fit(o: ProbeOptions): Promise<LinearProbe> {
    checkFloat32('features', o?.features);
    checkInt32('labels', o.labels);
    const numClasses = checkInteger('numClasses', o.numClasses, 2, 1 << 20);
    const { dim } = matrixShape('features', o.features.length, o.labels.length, o.dim);
    const normalize = o.normalize ?? false;
    const trainer = new Trainer({
      layers: [dim],
      classes: numClasses,
      projector: 'none',
      alpha: 0,
      classifierInit: 'normal',
      labelSmoothing: o.labelSmoothing ?? 0.1,
      lr: o.lr ?? 1e-3,
      weightDecay: o.weightDecay ?? 0,
      epochs: o.epochs ?? 30,
      warmupEpochs: 0,
      batch: o.batch ?? 256,
      seed: o.seed ?? 0,
      backend: o.backend,
    });
    const x = normalize ? l2NormalizeRows(o.features, dim) : o.features;
    await trainer.fit(x, o.labels, { signal: o.signal, onEpoch: o.onEpoch });
    return new LinearProbe(trainer, dim, normalize);
  }

  async logits(features: Float32Array, run: RunOptions = {}): Promise<Float32Array> {
    checkFloat32('features', features);
    return this.#trainer.features(this.normalize ? l2NormalizeRows(features, this.dim) : features, 'logits', run);
  }

  /** Energy scores T·logsumexp(logits/T) per row (T = 1 by default); higher = more in-distribution. */
  async energy(features: Float32Array, temperature = 1): Promise<Float64Array> {
    const logits = await this.logits(features);
    const C = this.#trainer.options.classes;
    const scores = new Float64Array(logits.length / C);
    for (let i = 0; i < scores.length; i++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, logits[i * C + c] / temperature);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[i * C + c] / temperature - max);
      scores[i] = temperature * (max + Math.log(sum));
    }
    return scores;
  }

  /** Top-1 accuracy on labelled features. */
  async accuracy(features: Float32Array, labels: Int32Array): Promise<number> {
    const x = this.normalize ? l2NormalizeRows(checkFloat32('features', features), this.dim) : features;
    return (await this.#trainer.evaluate(x, labels)).accuracy!;
  }

  /** The probe's weights (C×d) and bias (C), e.g. for the NC2–NC4 metrics. */
  weights(): { weights: Float32Array; bias: Float32Array } {
    const [weights, bias] = this.#trainer.state().params;
    return { weights, bias };
  }
}
