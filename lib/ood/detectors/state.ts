// Reading fitted state back (from a saved detector file): every tensor and value is checked for presence, type and
// size before a detector uses it, so a file that passed its checksum but was written wrongly is still refused with
// ERR_FILE_FORMAT instead of reaching native code with inconsistent sizes.
import type { RawLinearHead, RawWhitenedCentres, RawWhitenedModel } from '../../../binding.js';
import { fail } from '../../errors.js';
import { native } from '../../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../../validate.js';
import type { FittedState } from './common.js';

type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** The tensor `name`, of the given type and length. */
export function stateTensor<C extends FloatArrayCtor>(state: FittedState, name: string, Ctor: C, length: number): InstanceType<C> {
  const tensor = state.tensors[name];
  if (!(tensor instanceof Ctor)) fail('ERR_FILE_FORMAT', `${state.method} state ${name}`, `a ${Ctor.name}`, tensor ? tensor.constructor.name : 'none');
  if (tensor.length !== length) fail('ERR_FILE_FORMAT', `${state.method} state ${name}`, `${length} elements`, `${tensor.length}`);
  return tensor as InstanceType<C>;
}

/** A finite fitted scalar; with `integerMin`, an integer at least that. */
export function stateValue(state: FittedState, name: string, integerMin?: number): number {
  const value = state.values[name];
  const ok = integerMin === undefined ? Number.isFinite(value) : Number.isSafeInteger(value) && value >= integerMin;
  if (!ok) fail('ERR_FILE_FORMAT', `${state.method} state ${name}`, integerMin === undefined ? 'a finite number' : `an integer ≥ ${integerMin}`, String(value));
  return value;
}

/** A classifier head: C×d weights and an optional bias. */
export interface HeadState {
  weights: Float32Array;
  bias: Float32Array | null;
  classes: number;
  dim: number;
}

/** A classifier head as the API takes it: logits = features Wᵀ + bias. */
export interface HeadInput {
  /** C×d, row-major. */
  weights: FloatArray;
  bias?: FloatArray;
  numClasses: number;
}

/** Checks a classifier head (C×d weights, optional C bias) and returns it with its shape. */
export function checkHead(input: HeadInput): HeadState {
  const classes = checkInteger('numClasses', input?.numClasses, 1, 1 << 24);
  const weights = checkFloat32('weights', input.weights);
  const dim = weights.length / classes;
  if (!Number.isInteger(dim) || dim < 1) fail('ERR_SHAPE', 'weights', `numClasses (${classes}) × dim elements`, `${weights.length} elements`);
  const bias = input.bias === undefined ? null : checkFloat32('bias', input.bias);
  if (bias && bias.length !== classes) fail('ERR_SHAPE', 'bias', `${classes} elements (numClasses)`, `${bias.length} elements`);
  return { weights, bias, classes, dim };
}

export function headTensors(head: HeadState): Record<string, Float32Array> {
  return head.bias ? { 'head.weights': head.weights, 'head.bias': head.bias } : { 'head.weights': head.weights };
}

export function headFromState(state: FittedState, dim: number): HeadState {
  const classes = state.numClasses;
  if (!Number.isSafeInteger(classes) || classes === null || classes < 1) fail('ERR_FILE_FORMAT', `${state.method} state numClasses`, 'a positive integer', String(classes));
  const weights = stateTensor(state, 'head.weights', Float32Array, classes * dim);
  const bias = 'head.bias' in state.tensors ? stateTensor(state, 'head.bias', Float32Array, classes) : null;
  return { weights, bias, classes, dim };
}

/** A whitened-distance model (Mahalanobis class centres, ViM/NECO projections) under a name prefix. */
export function modelTensors(prefix: string, model: RawWhitenedModel): { tensors: Record<string, Float64Array>; values: Record<string, number> } {
  return {
    tensors: { [`${prefix}.shift`]: model.shift, [`${prefix}.whitening`]: model.whitening, [`${prefix}.centres`]: model.centres },
    values: { [`${prefix}.dims`]: model.dims, [`${prefix}.count`]: model.count },
  };
}

export function modelFromState(state: FittedState, prefix: string, dim: number): RawWhitenedModel {
  const dims = stateValue(state, `${prefix}.dims`, 1);
  const count = stateValue(state, `${prefix}.count`, 1);
  if (dims > dim) fail('ERR_FILE_FORMAT', `${state.method} state ${prefix}.dims`, `at most the feature dim ${dim}`, String(dims));
  return {
    dim,
    dims,
    count,
    shift: stateTensor(state, `${prefix}.shift`, Float64Array, dim),
    whitening: stateTensor(state, `${prefix}.whitening`, Float64Array, dims * dim),
    centres: stateTensor(state, `${prefix}.centres`, Float64Array, count * dims),
  };
}

/** The head in native memory, prepared once per backend for every score through it (clip: ReAct's; none by default). */
export function nativeHead(head: HeadState, clip = Infinity): RawLinearHead {
  return new (native().LinearHead)({ weights: head.weights, bias: head.bias, classes: head.classes, clip });
}

/** The model in native memory, prepared once per backend for every score through it. */
export function nativeModel(model: RawWhitenedModel): RawWhitenedCentres {
  return new (native().WhitenedCentres)(model);
}

/** Runs `use` with a head made for this one call (an unbound detector given the head per call), freed after. */
export async function withNativeHead<T>(head: HeadState, clip: number, use: (native: RawLinearHead) => Promise<T>): Promise<T> {
  const handle = nativeHead(head, clip);
  try {
    return await use(handle);
  } finally {
    handle.dispose();
  }
}
