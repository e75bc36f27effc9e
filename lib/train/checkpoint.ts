// Trainer checkpoints: one .safetensors file with every parameter and AdamW moment (float32), the options,
// step and epoch as metadata, and a SHA-256 of all tensor bytes that load() checks. Written atomically.
//
// Tensors: param.<i>, adam_m.<i>, adam_v.<i> for i in parameter order (per encoder layer W then b, and LayerNorm's
// γ then β with options.layerNorm; then the classifier's W and b). Metadata: format "ncod.trainer", version "1",
// options (JSON; options added later, such as layerNorm, take their defaults when absent), step, epoch, sha256.
import { createHash } from 'node:crypto';

import { readSafetensors, writeSafetensors, type Tensor } from '../data/index.js';
import { NcodError, fail } from '../errors.js';
import { Trainer, type TrainerState } from './trainer.js';

const FORMAT = 'ncod.trainer';
const VERSION = '1';
const GROUPS = [
  ['param', 'params'],
  ['adam_m', 'm'],
  ['adam_v', 'v'],
] as const;

function digest(state: Pick<TrainerState, 'params' | 'm' | 'v'>): string {
  const hash = createHash('sha256');
  for (const [, key] of GROUPS) for (const a of state[key]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}

export async function saveCheckpoint(trainer: Trainer, path: string): Promise<void> {
  const state = trainer.state();
  const tensors = new Map<string, Tensor>();
  for (const [prefix, key] of GROUPS) {
    state[key].forEach((a, i) => tensors.set(`${prefix}.${i}`, { dtype: 'float32', shape: [a.length], data: a }));
  }
  await writeSafetensors(path, tensors, {
    format: FORMAT,
    version: VERSION,
    options: JSON.stringify(state.options),
    step: String(state.step),
    epoch: String(state.epoch),
    sha256: digest(state),
  });
}

export async function loadCheckpoint(path: string): Promise<Trainer> {
  const { tensors, metadata } = await readSafetensors(path);
  const bad = (expected: string, got: string): never => fail('ERR_FILE_FORMAT', `checkpoint ${path}`, expected, got);
  if (metadata.format !== FORMAT || metadata.version !== VERSION) bad(`format ${FORMAT} version ${VERSION}`, `${metadata.format} ${metadata.version}`);
  let options: TrainerState['options'];
  try {
    options = JSON.parse(metadata.options ?? '');
  } catch {
    return bad('options as JSON', String(metadata.options));
  }
  const step = Number(metadata.step);
  const epoch = Number(metadata.epoch);
  if (!Number.isSafeInteger(step) || step < 0 || !Number.isSafeInteger(epoch) || epoch < 0) bad('non-negative step and epoch', `${metadata.step}, ${metadata.epoch}`);
  const state = { options, step, epoch } as TrainerState;
  for (const [prefix, key] of GROUPS) {
    const arrays: Float32Array[] = [];
    for (let i = 0; tensors.has(`${prefix}.${i}`); i++) {
      const t = tensors.get(`${prefix}.${i}`)!;
      if (t.dtype !== 'float32') bad(`${prefix}.${i} as float32`, t.dtype);
      arrays.push(t.data as Float32Array);
    }
    state[key] = arrays;
  }
  if (digest(state) !== metadata.sha256) bad(`tensor data with SHA-256 ${metadata.sha256}`, 'data that does not match it');
  try {
    return new Trainer(options, validated(state));
  } catch (error) {
    if (error instanceof NcodError && error.code !== 'ERR_FILE_FORMAT') bad('consistent options and tensors', error.message);
    throw error;
  }
}

/** Tensor counts and sizes must be those the options imply. */
function validated(state: TrainerState): TrainerState {
  const probe = new Trainer(state.options);
  const sizes = probe.state().params.map((p) => p.length);
  for (const [, key] of GROUPS) {
    const got = state[key].map((a) => a.length);
    if (got.length !== sizes.length || got.some((n, i) => n !== sizes[i])) {
      fail('ERR_FILE_FORMAT', `checkpoint ${key}`, `sizes [${sizes.join(', ')}]`, `[${got.join(', ')}]`);
    }
  }
  return state;
}
