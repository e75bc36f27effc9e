// The NC-controlled MLP trainer (METHOD.md §2–3): encoder (Linear [→ LayerNorm] → ReLU layers) → frozen simplex-ETF
// projector → linear classifier, loss CE_ls + α·L_ent(encoder output), AdamW with warm-up + cosine. Parameters and
// optimiser moments live here as Float32Arrays; each epoch runs natively off the JS thread (on the chosen backend's
// memory) and writes them back when it completes.
import type { RawMlpConfig } from '../../binding.js';
import { withCancelFlag } from '../abort.js';
import { BACKEND_NAME_LIST, DEFAULT_BACKEND, isBackendName, pickBackend, type BackendName } from '../backend.js';
import { describe, fail } from '../errors.js';
import { native } from '../native.js';
import { mulberry32 } from '../random.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';
import { learningRate } from './schedule.js';

export interface TrainerOptions {
  /** [input, h1, ..., hK]: K encoder layers, each Linear + ReLU; hK is the encoder output width d. */
  layers: number[];
  /** Each encoder layer Linear → LayerNorm → ReLU (torch.nn.LayerNorm: eps 1e-5, learnable γ = 1, β = 0 at start).
   * Default false. Layer features stay post-ReLU. */
  layerNorm?: boolean;
  classes: number;
  /** 'etf' (default): the frozen projector d → projectorHidden → d; 'none': the baseline. */
  projector?: 'etf' | 'none';
  /** Default 4·d (the paper's 512 → 2048 → 512). */
  projectorHidden?: number;
  /** Classifier weights: 'xavier' (uniform, the method's) or 'normal' (N(0, 0.01²), the linear probe's); bias 0. */
  classifierInit?: 'xavier' | 'normal';
  /** Weight of the entropy regulariser (default 0.05; 0 for the baseline). */
  alpha?: number;
  labelSmoothing?: number;
  lr?: number;
  /** AdamW's decoupled weight decay, applied to every parameter (biases and LayerNorm γ, β too), as
   * torch.optim.AdamW over model.parameters(). */
  weightDecay?: number;
  batch?: number;
  epochs?: number;
  warmupEpochs?: number;
  seed?: number;
  /** 'cpu' (default), 'cuda' or 'auto'. Checked when training starts: without a usable CUDA plugin, driver and
   * device, trainEpoch/features reject with ERR_BACKEND_UNAVAILABLE and the reason (see backends()). */
  backend?: BackendName;
}

export type ResolvedTrainerOptions = Required<Omit<TrainerOptions, 'backend'>> & { backend: BackendName };

export interface EpochStats {
  epoch: number;
  loss: number;
  ce: number;
  entropy: number;
  /** Training accuracy of the epoch, measured on the fly. */
  accuracy: number;
  lr: number;
  seconds: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Fraction of the current call completed. */
  onProgress?: (fraction: number) => void;
}

/** The layers whose outputs features() can return. */
export type LayerName = `enc${number}` | 'encoder' | 'proj1' | 'projector' | 'logits';

export interface TrainerState {
  options: ResolvedTrainerOptions;
  params: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  step: number;
  epoch: number;
}

export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  const layers = options?.layers;
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS) {
    fail('ERR_INVALID_ARGUMENT', 'layers', `[input, h1, ..., hK] (K = 0: a linear classifier) of at most ${MAX_LAYERS} widths`, describe(layers));
  }
  // An index loop, not forEach: a sparse array's holes must be refused, not skipped.
  for (let i = 0; i < layers.length; i++) checkInteger(`layers[${i}]`, layers[i], 1, 1 << 20);
  const d = layers[layers.length - 1];
  const projector = options.projector ?? 'etf';
  if (projector !== 'etf' && projector !== 'none') fail('ERR_INVALID_ARGUMENT', 'projector', "'etf' or 'none'", describe(projector));
  const resolved: ResolvedTrainerOptions = {
    layers: [...layers],
    layerNorm: options.layerNorm ?? false,
    classes: checkInteger('classes', options.classes, 2, 1 << 20),
    projector,
    projectorHidden: options.projectorHidden ?? 4 * d,
    classifierInit: options.classifierInit ?? 'xavier',
    alpha: options.alpha ?? 0.05,
    labelSmoothing: options.labelSmoothing ?? 0.1,
    lr: options.lr ?? 1e-3,
    weightDecay: options.weightDecay ?? 0.05,
    batch: checkInteger('batch', options.batch ?? 256, 1, 1 << 24),
    epochs: checkInteger('epochs', options.epochs ?? 10, 1, 1 << 20),
    warmupEpochs: checkInteger('warmupEpochs', options.warmupEpochs ?? 5, 0, 1 << 20),
    seed: checkInteger('seed', options.seed ?? 0, 0, 2 ** 32 - 1),
    backend: options.backend ?? DEFAULT_BACKEND,
  };
  for (const key of ['alpha', 'labelSmoothing', 'lr', 'weightDecay'] as const) {
    if (typeof resolved[key] !== 'number' || !Number.isFinite(resolved[key]) || resolved[key] < 0) {
      fail('ERR_INVALID_ARGUMENT', key, 'a finite number ≥ 0', describe(resolved[key]));
    }
  }
  if (projector === 'etf') checkInteger('projectorHidden', resolved.projectorHidden, Math.max(d, 2), 1 << 20);
  if (!isBackendName(resolved.backend)) fail('ERR_INVALID_ARGUMENT', 'backend', BACKEND_NAME_LIST, describe(resolved.backend));
  if (typeof resolved.layerNorm !== 'boolean') fail('ERR_INVALID_ARGUMENT', 'layerNorm', 'true or false', describe(resolved.layerNorm));
  if (resolved.classifierInit !== 'xavier' && resolved.classifierInit !== 'normal') {
    fail('ERR_INVALID_ARGUMENT', 'classifierInit', "'xavier' or 'normal'", describe(resolved.classifierInit));
  }
  return resolved;
}

/** The most widths `layers` may list (the native side accepts as many). */
export const MAX_LAYERS = 256;

/** Element counts of every parameter, in order (as the native parameter_sizes()), without allocating any. */
export function parameterSizes(o: ResolvedTrainerOptions): number[] {
  const sizes: number[] = [];
  for (let l = 0; l + 1 < o.layers.length; l++) {
    const [inp, out] = [o.layers[l], o.layers[l + 1]];
    sizes.push(out * inp, out);
    if (o.layerNorm) sizes.push(out, out);
  }
  sizes.push(o.classes * o.layers[o.layers.length - 1], o.classes);
  return sizes;
}

/** PyTorch's defaults: encoder Linear U(±1/√in) for weights and biases, LayerNorm γ = 1 and β = 0; the classifier
 * Xavier-uniform (or N(0, 0.01²) for a probe), bias 0. Order as the native parameter_sizes(). */
function initialParameters(o: ResolvedTrainerOptions): Float32Array[] {
  const random = mulberry32(o.seed);
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * random() - 1) * bound);
  const params: Float32Array[] = [];
  for (let l = 0; l + 1 < o.layers.length; l++) {
    const [inp, out] = [o.layers[l], o.layers[l + 1]];
    params.push(uniform(out * inp, 1 / Math.sqrt(inp)), uniform(out, 1 / Math.sqrt(inp)));
    if (o.layerNorm) params.push(new Float32Array(out).fill(1), new Float32Array(out));
  }
  const d = o.layers[o.layers.length - 1];
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const classifier =
    o.classifierInit === 'normal'
      ? Float32Array.from({ length: o.classes * d }, () => 0.01 * normal())
      : uniform(o.classes * d, Math.sqrt(6 / (d + o.classes)));
  params.push(classifier, new Float32Array(o.classes));
  return params;
}

/** Fisher–Yates with a PRNG seeded by (seed, epoch): the same order on every run and after a resume. */
function epochOrder(rows: number, seed: number, epoch: number): Int32Array {
  const random = mulberry32((seed * 1_000_003 + epoch * 7_919 + 1) >>> 0);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export class Trainer {
  readonly options: ResolvedTrainerOptions;
  #params: Float32Array[];
  #m: Float32Array[];
  #v: Float32Array[];
  #step = 0;
  #epoch = 0;
  #busy = false;

  constructor(options: TrainerOptions, state?: TrainerState) {
    this.options = resolveTrainerOptions(state?.options ?? options);
    this.#params = state?.params ?? initialParameters(this.options);
    const zeros = () => this.#params.map((p) => new Float32Array(p.length));
    this.#m = state?.m ?? zeros();
    this.#v = state?.v ?? zeros();
    this.#step = state?.step ?? 0;
    this.#epoch = state?.epoch ?? 0;
  }

  /** Epochs completed so far. */
  get epoch(): number {
    return this.#epoch;
  }

  get config(): RawMlpConfig {
    const o = this.options;
    return { widths: o.layers, classes: o.classes, projectorHidden: o.projector === 'etf' ? o.projectorHidden : 0, layerNorm: o.layerNorm };
  }

  /** A copy of everything a checkpoint needs. */
  state(): TrainerState {
    const copy = (a: Float32Array[]) => a.map((x) => x.slice());
    return { options: this.options, params: copy(this.#params), m: copy(this.#m), v: copy(this.#v), step: this.#step, epoch: this.#epoch };
  }

  /**
   * One epoch over (features, labels) with this epoch's learning rate. An aborted (ERR_ABORTED) or failed epoch
   * leaves the trainer exactly as it was (parameters, moments, step, epoch): run it again to continue.
   */
  async trainEpoch(featuresIn: FloatArray, labelsIn: IntegerArray, run: RunOptions = {}): Promise<EpochStats> {
    const features = checkFloat32('features', featuresIn);
    const labels = checkInt32('labels', labelsIn);
    const { rows } = matrixShape('features', features.length, labels.length, this.options.layers[0]);
    if (this.#busy) fail('ERR_INVALID_ARGUMENT', 'trainEpoch', 'one epoch at a time', 'a call while another runs');
    const o = this.options;
    const lr = learningRate(this.#epoch, o.epochs, o.lr, o.warmupEpochs);
    const order = epochOrder(rows, o.seed, this.#epoch);
    const start = performance.now();
    this.#busy = true;
    try {
      const r = await withCancelFlag(run.signal, (cancelFlag) =>
        native().trainEpoch({
          config: this.config, params: this.#params, m: this.#m, v: this.#v, x: features, y: labels, rows, order,
          epoch: { batch: o.batch, alpha: o.alpha, labelSmoothing: o.labelSmoothing, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay, step: this.#step },
          backend: pickBackend(o.backend), cancelFlag, onProgress: run.onProgress,
        }),
      );
      this.#step = r.step;
      this.#epoch += 1;
      return { epoch: this.#epoch, loss: r.loss, ce: r.ce, entropy: r.entropy, accuracy: r.accuracy, lr, seconds: (performance.now() - start) / 1000 };
    } finally {
      this.#busy = false;
    }
  }

  /** Trains until options.epochs epochs are done, calling onEpoch after each. */
  async fit(
    featuresIn: FloatArray,
    labelsIn: IntegerArray,
    run: RunOptions & { onEpoch?: (stats: EpochStats) => void } = {},
  ): Promise<EpochStats[]> {
    // Converted once here, not once per epoch in trainEpoch.
    const features = checkFloat32('features', featuresIn);
    const labels = checkInt32('labels', labelsIn);
    const history: EpochStats[] = [];
    while (this.#epoch < this.options.epochs) {
      const stats = await this.trainEpoch(features, labels, run);
      history.push(stats);
      run.onEpoch?.(stats);
    }
    return history;
  }

  /** The outputs of one layer: enc1..encK, encoder (= encK), proj1 and projector (with the ETF projector), logits. */
  async features(featuresIn: FloatArray, layer: LayerName, run: RunOptions = {}): Promise<Float32Array> {
    const features = checkFloat32('features', featuresIn);
    const inputs = this.options.layers[0];
    const { rows } = matrixShape('features', features.length, features.length / inputs, inputs);
    const index = this.#layerIndex(layer);
    return withCancelFlag(run.signal, (cancelFlag) =>
      native().forwardLayer({
        config: this.config, params: this.#params, x: features, rows, layer: index,
        backend: pickBackend(this.options.backend), cancelFlag, onProgress: run.onProgress,
      }),
    );
  }

  /** Predicted classes and test accuracy when labels are given. */
  async evaluate(
    features: FloatArray,
    labelsIn?: IntegerArray,
    run: RunOptions = {},
  ): Promise<{ predictions: Int32Array; accuracy: number | null }> {
    const logits = await this.features(features, 'logits', run);
    const C = this.options.classes;
    const predictions = new Int32Array(logits.length / C);
    for (let i = 0; i < predictions.length; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      predictions[i] = best;
    }
    if (!labelsIn) return { predictions, accuracy: null };
    const labels = checkInt32('labels', labelsIn);
    if (labels.length !== predictions.length) fail('ERR_SHAPE', 'labels', `${predictions.length} labels`, `${labels.length}`);
    let correct = 0;
    for (let i = 0; i < labels.length; i++) correct += Number(labels[i] === predictions[i]);
    return { predictions, accuracy: correct / labels.length };
  }

  /** Names of this model's layers, input side first. */
  layerNames(): LayerName[] {
    const K = this.options.layers.length - 1;
    const names: LayerName[] = Array.from({ length: K }, (_, i) => `enc${i + 1}` as LayerName);
    if (this.options.projector === 'etf') names.push('proj1', 'projector');
    return names;
  }

  #layerIndex(layer: LayerName): number {
    const K = this.options.layers.length - 1;
    const etf = this.options.projector === 'etf';
    if (layer === 'encoder' && K > 0) return K - 1;
    if (layer === 'logits') return K + 2;
    if (etf && layer === 'proj1') return K;
    if (etf && layer === 'projector') return K + 1;
    const match = /^enc(\d+)$/.exec(String(layer));
    if (match && Number(match[1]) >= 1 && Number(match[1]) <= K) return Number(match[1]) - 1;
    return fail('ERR_INVALID_ARGUMENT', 'layer', `one of ${[...this.layerNames(), 'encoder', 'logits'].join(', ')}`, describe(layer));
  }
}
