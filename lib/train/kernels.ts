// The method's loss terms and fixed ETF projector (METHOD.md §2–3) as standalone calls, with gradients.
// The trainer uses the same native kernels; these wrappers are for users who train elsewhere and for tests.
import { withCancelFlag } from '../abort.js';
import { fail } from '../errors.js';
import { native } from '../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';

export interface LossWithGradient {
  loss: number;
  /** dL/dinput, same shape as the input. */
  grad: Float32Array;
}

/**
 * Each kernel is one native step without an inner cancel point: an abort before it starts rejects at once, one during
 * it rejects (ERR_ABORTED) when the step returns, its result discarded.
 */
export interface KernelRunOptions {
  signal?: AbortSignal;
}

/** Mean cross-entropy against the label-smoothed target (1−ε)·onehot + ε/K, and dL/dlogits. */
export async function crossEntropyLs(
  logitsIn: FloatArray,
  labelsIn: IntegerArray,
  options: { classes: number; smoothing?: number } & KernelRunOptions,
): Promise<LossWithGradient> {
  const logits = checkFloat32('logits', logitsIn);
  const labels = checkInt32('labels', labelsIn);
  const classes = checkInteger('classes', options?.classes, 1, 1 << 24);
  matrixShape('logits', logits.length, labels.length, classes);
  const smoothing = options.smoothing ?? 0.1;
  return withCancelFlag(options.signal, (cancelFlag) =>
    native().crossEntropyLs({ logits, labels, rows: labels.length, classes, smoothing, cancelFlag }),
  );
}

/**
 * The nearest-neighbour entropy regulariser L_ent over the rows of `features` (≥ 2 rows), and
 * scale·dL_ent/dfeatures. Minimising L_ent spreads the batch out, which weakens Neural Collapse.
 */
export async function nnEntropy(featuresIn: FloatArray, options: { dim: number; scale?: number } & KernelRunOptions): Promise<LossWithGradient> {
  const features = checkFloat32('features', featuresIn);
  const dim = checkInteger('dim', options?.dim, 1);
  if (features.length % dim !== 0) fail('ERR_SHAPE', 'features', `a multiple of dim = ${dim} elements`, `${features.length}`);
  const scale = options.scale ?? 1;
  return withCancelFlag(options.signal, (cancelFlag) => native().nnEntropy({ features, rows: features.length / dim, dim, scale, cancelFlag }));
}

/** The frozen simplex-ETF projector z = normalize(A₂ relu(A₁ e)), d → hiddenWidth → d; with dz, also dL/de. */
export async function etfProjector(
  featuresIn: FloatArray,
  options: { dim: number; hiddenWidth: number; dz?: FloatArray } & KernelRunOptions,
): Promise<{ hidden: Float32Array; z: Float32Array; de: Float32Array | null }> {
  const features = checkFloat32('features', featuresIn);
  const dim = checkInteger('dim', options?.dim, 2);
  const hidden = checkInteger('hiddenWidth', options.hiddenWidth, dim);
  if (features.length % dim !== 0) fail('ERR_SHAPE', 'features', `a multiple of dim = ${dim} elements`, `${features.length}`);
  const dz = options.dz === undefined ? null : checkFloat32('dz', options.dz);
  return withCancelFlag(options.signal, (cancelFlag) =>
    native().etfProjector({ features, rows: features.length / dim, dim, hiddenWidth: hidden, dz, cancelFlag }),
  );
}
