// Trainer checkpoints: one .safetensors file with every parameter and AdamW moment (float32), the options,
// step and epoch as metadata, and a SHA-256 that load() checks. Written atomically.
//
// Tensors (version 3), named as PyTorch names a state dict, so a model can be taken apart without ncod:
//   layers.<l>.weight (out × in), layers.<l>.bias (out), with options.layerNorm layers.<l>.norm.weight (γ) and
//   layers.<l>.norm.bias (β), for each encoder layer l = 0..K−1; head.weight (classes × d) and head.bias (classes),
//   the classifier; and AdamW's moments of each, adam.m.<name> and adam.v.<name>, of the same shape.
// The frozen ETF projector has no parameters (it is rebuilt from the options). Metadata: format "ncod.trainer",
// version "3", options (JSON; options added later, such as layerNorm, take their defaults when absent), step,
// epoch, sha256. Versions 1 and 2 stored the same arrays flat and unnamed: param.<i>, adam_m.<i>, adam_v.<i> in
// parameter order (the order above); they are still read.
//
// Versions 2 and 3: sha256 covers a canonical form of everything that is loaded (see integrityDigest): the metadata
// (format, version, options, step, epoch), then every tensor's name, dtype, shape and bytes in name order. A flipped
// bit anywhere in what is loaded (a learning rate, the seed, the step, `projector`) is refused with ERR_FILE_FORMAT.
// Version 1 files (sha256 over the tensor bytes only) are still read, with that weaker check; saving writes version 3.
// Loading checks the options and the tensor sizes arithmetically before anything is allocated.
import { createHash } from 'node:crypto';

import { canonicalDigest } from '../data/integrity.js';
import { readSafetensors, writeSafetensors, type Tensor } from '../data/index.js';
import { NcodError, fail } from '../errors.js';
import { Trainer, parameterSizes, resolveTrainerOptions, type ResolvedTrainerOptions, type TrainerState } from './trainer.js';

const FORMAT = 'ncod.trainer';
const VERSION = '3';
const READABLE_VERSIONS = ['1', '2', '3'];
// Versions 1 and 2: the prefix of each group's flat tensors.
const GROUPS = [
  ['param', 'params'],
  ['adam_m', 'm'],
  ['adam_v', 'v'],
] as const;
// Version 3: the prefix of each group's named tensors.
const NAMED_GROUPS = [
  ['', 'params'],
  ['adam.m.', 'm'],
  ['adam.v.', 'v'],
] as const;

/** Names and shapes of the parameters in order (as parameterSizes), PyTorch style: layers.<l>.weight … head.bias. */
export function parameterNames(o: ResolvedTrainerOptions): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  for (let l = 0; l + 1 < o.layers.length; l++) {
    const [inp, width] = [o.layers[l], o.layers[l + 1]];
    out.push({ name: `layers.${l}.weight`, shape: [width, inp] }, { name: `layers.${l}.bias`, shape: [width] });
    if (o.layerNorm) out.push({ name: `layers.${l}.norm.weight`, shape: [width] }, { name: `layers.${l}.norm.bias`, shape: [width] });
  }
  const d = o.layers[o.layers.length - 1];
  out.push({ name: 'head.weight', shape: [o.classes, d] }, { name: 'head.bias', shape: [o.classes] });
  return out;
}

/**
 * The classifier of a trained model: head.weight (classes × d), head.bias, and the layer whose features it reads
 * (the projector's output with the ETF projector, else the encoder's), as `ncod metrics --weights --bias` takes them.
 */
export function classifierHead(trainer: Trainer): { weight: Float32Array; bias: Float32Array; shape: [number, number]; layer: 'projector' | 'encoder' } {
  const o = trainer.options;
  const names = parameterNames(o).map((p) => p.name);
  const params = trainer.state().params;
  const d = o.layers[o.layers.length - 1];
  return {
    weight: params[names.indexOf('head.weight')],
    bias: params[names.indexOf('head.bias')],
    shape: [o.classes, d],
    layer: o.projector === 'etf' ? 'projector' : 'encoder',
  };
}

/** The tensors of a checkpoint's version: named (3) or flat param.<i>, adam_m.<i>, adam_v.<i> (1 and 2). */
function tensorLayout(options: ResolvedTrainerOptions, version: string): { key: 'params' | 'm' | 'v'; name: string; shape: number[] }[][] {
  if (version === '3') {
    const names = parameterNames(options);
    return NAMED_GROUPS.map(([prefix, key]) => names.map(({ name, shape }) => ({ key, name: `${prefix}${name}`, shape })));
  }
  const sizes = parameterSizes(options);
  return GROUPS.map(([prefix, key]) => sizes.map((size, i) => ({ key, name: `${prefix}.${i}`, shape: [size] })));
}

/** A trainer state as the tensors of checkpoint `version` ('3' named, '1' or '2' flat): for saving and for tests. */
export function checkpointTensors(state: TrainerState, version: '1' | '2' | '3' = VERSION): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const group of tensorLayout(state.options, version)) {
    group.forEach(({ key, name, shape }, i) => tensors.set(name, { dtype: 'float32', shape, data: state[key][i] }));
  }
  return tensors;
}
const SIGNED_METADATA = ['format', 'version', 'options', 'step', 'epoch'] as const;

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// Version 1: the tensor bytes only.
function legacyDigest(state: Pick<TrainerState, 'params' | 'm' | 'v'>): string {
  const hash = createHash('sha256');
  for (const [, key] of GROUPS) for (const a of state[key]) hash.update(bytesOf(a));
  return hash.digest('hex');
}

/** Version 2: the canonical digest (lib/data/integrity.ts) of the SIGNED_METADATA fields and every tensor. */
export function integrityDigest(metadata: Record<string, string | undefined>, tensors: Map<string, Tensor>): string {
  return canonicalDigest(SIGNED_METADATA, metadata, tensors);
}

export async function saveCheckpoint(trainer: Trainer, path: string): Promise<void> {
  const state = trainer.state();
  const tensors = checkpointTensors(state);
  const metadata: Record<string, string> = {
    format: FORMAT,
    version: VERSION,
    options: JSON.stringify(state.options),
    step: String(state.step),
    epoch: String(state.epoch),
  };
  await writeSafetensors(path, tensors, { ...metadata, sha256: integrityDigest(metadata, tensors) });
}

export async function loadCheckpoint(path: string): Promise<Trainer> {
  // The file is read whole (its tensors are views on it): nothing below allocates more than the file's size
  // before the options and sizes are checked.
  const { tensors, metadata } = await readSafetensors(path);
  const bad = (expected: string, got: string): never => fail('ERR_FILE_FORMAT', `checkpoint ${path}`, expected, got);
  if (metadata.format !== FORMAT || !READABLE_VERSIONS.includes(metadata.version ?? '')) {
    bad(`format ${FORMAT} version ${READABLE_VERSIONS.join(' or ')}`, `${metadata.format} ${metadata.version}`);
  }
  const legacy = metadata.version === '1';
  if (!legacy && integrityDigest(metadata, tensors) !== metadata.sha256) {
    bad(`metadata and tensors with SHA-256 ${metadata.sha256}`, 'a file that does not match it (damaged or edited)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.options ?? '');
  } catch {
    return bad('options as JSON', String(metadata.options));
  }
  let options: TrainerState['options'];
  try {
    options = resolveTrainerOptions(parsed as TrainerState['options']);
  } catch (error) {
    if (error instanceof NcodError) return bad('valid trainer options', error.message);
    throw error;
  }
  const step = Number(metadata.step);
  const epoch = Number(metadata.epoch);
  if (!Number.isSafeInteger(step) || step < 0 || !Number.isSafeInteger(epoch) || epoch < 0) bad('non-negative step and epoch', `${metadata.step}, ${metadata.epoch}`);
  // Sizes the options imply, checked against the tensors (which the file holds) before a Trainer allocates anything.
  const layout = tensorLayout(options, metadata.version!);
  const expectedNames = new Set<string>();
  const state = { options, step, epoch } as TrainerState;
  for (const group of layout) {
    const arrays: Float32Array[] = [];
    for (const { name, shape } of group) {
      const size = shape.reduce((a, b) => a * b, 1);
      expectedNames.add(name);
      const t = tensors.get(name);
      if (!t) return bad(`a tensor ${name} of ${size} elements (options.layers, classes)`, 'none');
      if (t.dtype !== 'float32') bad(`${name} as float32`, t.dtype);
      if (t.data.length !== size) bad(`${name} of ${size} elements (options.layers, classes)`, `${t.data.length}`);
      if (metadata.version === '3' && t.shape.join('×') !== shape.join('×')) bad(`${name} of shape ${shape.join('×')}`, t.shape.join('×'));
      arrays.push(t.data as Float32Array);
    }
    state[group[0].key] = arrays;
  }
  const extra = [...tensors.keys()].filter((n) => !expectedNames.has(n));
  if (extra.length > 0) bad(`the tensors of ${layout[0].length} parameters`, `also ${extra.slice(0, 3).join(', ')}`);
  if (legacy && legacyDigest(state) !== metadata.sha256) bad(`tensor data with SHA-256 ${metadata.sha256}`, 'data that does not match it');
  try {
    return new Trainer(options, state);
  } catch (error) {
    if (error instanceof NcodError && error.code !== 'ERR_FILE_FORMAT') bad('consistent options and tensors', error.message);
    throw error;
  }
}
