// The paper's detection and transfer protocol (METHOD.md §5): a linear probe trained on frozen features
// (AdamW lr 1e-3, weight decay 0, label smoothing 0.1, 30 epochs, batch 256, weights N(0, 0.01²), bias 0),
// optionally on L2-normalised features. Its energy logsumexp_c f_c(x) is the OOD score (higher = more ID);
// its test accuracy on another dataset's labels measures OOD generalisation.
import type { BackendName } from '../backend.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';
import { Trainer, type EpochStats, type RunOptions } from '../train/trainer.js';
import { l2NormalizeRows } from './normalize.js';

export interface ProbeOptions {
  /** N×d, row-major (Float64Array is converted to float32). */
  features: FloatArray;
  /** Any integer typed array. */
  labels: IntegerArray;
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

export { l2NormalizeRows };

export interface EnergyOptions extends RunOptions {
  /** T in T·logsumexp(logits/T); default 1. */
  temperature?: number;
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
    const features = checkFloat32('features', o?.features);
    const labels = checkInt32('labels', o.labels);
    const numClasses = checkInteger('numClasses', o.numClasses, 2, 1 << 20);
    const { dim } = matrixShape('features', features.length, labels.length, o.dim);
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
    const x = normalize ? l2NormalizeRows(features, dim) : features;
    await trainer.fit(x, labels, { signal: o.signal, onEpoch: o.onEpoch });
    return new LinearProbe(trainer, dim, normalize);
  }

  async logits(features: FloatArray, run: RunOptions = {}): Promise<Float32Array> {
    const x = checkFloat32('features', features);
    return this.#trainer.features(this.normalize ? l2NormalizeRows(x, this.dim) : x, 'logits', run);
  }

  /**
   * Energy scores T·logsumexp(logits/T) per row (T = 1 by default); higher = more in-distribution. The third argument
   * (or an options object in place of the temperature) takes a `signal` and `onProgress` for the forward pass.
   */
  async energy(features: FloatArray, temperatureOrRun: number | EnergyOptions = 1, run: RunOptions = {}): Promise<Float64Array> {
    const options: EnergyOptions = typeof temperatureOrRun === 'number' ? { ...run, temperature: temperatureOrRun } : temperatureOrRun;
    const temperature = options.temperature ?? 1;
    const logits = await this.logits(features, { signal: options.signal, onProgress: options.onProgress });
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
  async accuracy(features: FloatArray, labels: IntegerArray, run: RunOptions = {}): Promise<number> {
    const f = checkFloat32('features', features);
    const x = this.normalize ? l2NormalizeRows(f, this.dim) : f;
    return (await this.#trainer.evaluate(x, checkInt32('labels', labels), run)).accuracy!;
  }

  /** The probe's weights (C×d) and bias (C), e.g. for the NC2–NC4 metrics. */
  weights(): { weights: Float32Array; bias: Float32Array } {
    const [weights, bias] = this.#trainer.state().params;
    return { weights, bias };
  }
}
