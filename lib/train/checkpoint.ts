// Trainer checkpoints: one .safetensors file with every parameter and AdamW moment (float32), the options,
// step and epoch as metadata, and a SHA-256 that load() checks. Written atomically.
//
// Tensors: param.<i>, adam_m.<i>, adam_v.<i> for i in parameter order (per encoder layer W then b, and LayerNorm's
// γ then β with options.layerNorm; then the classifier's W and b). Metadata: format "ncod.trainer", version "2",
// options (JSON; options added later, such as layerNorm, take their defaults when absent), step, epoch, sha256.
//
// Version 2: sha256 covers a canonical form of everything that is loaded (see integrityDigest): the metadata
// (format, version, options, step, epoch), then every tensor's name, dtype, shape and bytes in name order. A flipped
// bit anywhere in what is loaded (a learning rate, the seed, the step, `projector`) is refused with ERR_FILE_FORMAT.
// Version 1 files (sha256 over the tensor bytes only) are still read, with that weaker check; saving writes version 2.
// Loading checks the options and the tensor sizes arithmetically before anything is allocated.
import { createHash } from 'node:crypto';

import { canonicalDigest } from '../data/integrity.js';
import { readSafetensors, writeSafetensors, type Tensor } from '../data/index.js';
import { NcodError, fail } from '../errors.js';
import { Trainer, parameterSizes, resolveTrainerOptions, type TrainerState } from './trainer.js';

const FORMAT = 'ncod.trainer';
const VERSION = '2';
const READABLE_VERSIONS = ['1', '2'];
const GROUPS = [
  ['param', 'params'],
  ['adam_m', 'm'],
  ['adam_v', 'v'],
] as const;
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
  const tensors = new Map<string, Tensor>();
  for (const [prefix, key] of GROUPS) {
    state[key].forEach((a, i) => tensors.set(`${prefix}.${i}`, { dtype: 'float32', shape: [a.length], data: a }));
  }
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
  const sizes = parameterSizes(options);
  const expectedNames = new Set<string>();
  const state = { options, step, epoch } as TrainerState;
  for (const [prefix, key] of GROUPS) {
    const arrays: Float32Array[] = [];
    sizes.forEach((size, i) => {
      const name = `${prefix}.${i}`;
      expectedNames.add(name);
      const t = tensors.get(name);
      if (!t) return bad(`a tensor ${name} of ${size} elements (options.layers, classes)`, 'none');
      if (t.dtype !== 'float32') bad(`${name} as float32`, t.dtype);
      if (t.data.length !== size) bad(`${name} of ${size} elements (options.layers, classes)`, `${t.data.length}`);
      arrays.push(t.data as Float32Array);
    });
    state[key] = arrays;
  }
  const extra = [...tensors.keys()].filter((n) => !expectedNames.has(n));
  if (extra.length > 0) bad(`the tensors of ${sizes.length} parameters`, `also ${extra.slice(0, 3).join(', ')}`);
  if (legacy && legacyDigest(state) !== metadata.sha256) bad(`tensor data with SHA-256 ${metadata.sha256}`, 'data that does not match it');
  try {
    return new Trainer(options, state);
  } catch (error) {
    if (error instanceof NcodError && error.code !== 'ERR_FILE_FORMAT') bad('consistent options and tensors', error.message);
    throw error;
  }
}
