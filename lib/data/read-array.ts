/**
 * One way to name an array in a file, for every command and the JS API: `file.npy`, or `file.npz:key`,
 * `file.safetensors:layer4`, `file.pt:feats` / `file.pt:model.fc.weight` / `file.pt:feats.0` (dict keys and list
 * indexes joined with '.'). Without a name, a file holding exactly one array means that array. readFeatures and
 * readLabels then convert to what the native code takes: float32 matrices and int32 labels.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { fail } from '../errors.js';
import { readNpy } from './npy.js';
import { readNpz } from './npz.js';
import { readPt } from './pt.js';
import { readSafetensors } from './safetensors.js';
import { isFloatDType, toFloat32, toInt32Labels, type Tensor } from './tensor.js';

export type ArrayFormat = 'npy' | 'npz' | 'safetensors' | 'pt';

/** File extension → format. `.pth` and `.bin` are the other names torch.save files go by. */
const EXTENSIONS: Readonly<Record<string, ArrayFormat>> = {
  '.npy': 'npy',
  '.npz': 'npz',
  '.safetensors': 'safetensors',
  '.pt': 'pt',
  '.pth': 'pt',
  '.bin': 'pt',
};

export interface ArraySpec {
  path: string;
  format: ArrayFormat;
  /** The array's name inside the file; undefined means "the only one" (or, for readArrays, all of them). */
  name?: string;
}

/** A 2-D float32 matrix, row-major. */
export interface Features {
  data: Float32Array;
  rows: number;
  dim: number;
}

/**
 * Splits `file:name` at the first ':' that follows a known extension, so paths with colons elsewhere still work;
 * an existing file whose full name is the spec wins over any split.
 */
export function parseArraySpec(spec: string, what = 'array'): ArraySpec {
  if (typeof spec !== 'string' || spec === '') fail('ERR_INVALID_ARGUMENT', what, 'a file name', JSON.stringify(spec));
  const whole = formatOf(spec);
  if (whole && isFile(spec)) return { path: spec, format: whole };
  const m = /^(.+?\.(?:npy|npz|safetensors|pt|pth|bin)):(.*)$/i.exec(spec);
  if (m && m[2] !== '') {
    const format = formatOf(m[1])!;
    if (format === 'npy') fail('ERR_INVALID_ARGUMENT', what, 'a :name only after a file that holds several arrays (.npz, .safetensors, .pt)', spec);
    return { path: m[1], format, name: m[2] };
  }
  if (!whole) {
    fail('ERR_INVALID_ARGUMENT', what, `a file ending in ${Object.keys(EXTENSIONS).join(', ')} (optionally :name)`, spec);
  }
  return { path: spec, format: whole };
}

function formatOf(path: string): ArrayFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Every array in the file by name: a .npy is one array named ''. */
export async function readFileArrays(path: string, format: ArrayFormat, what = 'array'): Promise<Map<string, Tensor>> {
  // Regular files only: opening a FIFO would wait for a writer forever.
  if (!isFile(path)) {
    if (existsSync(path)) fail('ERR_INVALID_ARGUMENT', what, 'a regular file', `${path} (a directory, device, FIFO or socket)`);
    fail('ERR_INVALID_ARGUMENT', what, 'an existing file', path);
  }
  switch (format) {
    case 'npy':
      return new Map([['', await readNpy(path)]]);
    case 'npz':
      return readNpz(path);
    case 'safetensors':
      return (await readSafetensors(path)).tensors;
    case 'pt':
      return readPt(path);
  }
}

/**
 * The arrays `spec` names: all of the file's without a name; with one, that array, or the group under it
 * (`file.pt:model` → every `model.*`, names relative to the group). Unknown names list what the file has.
 */
export async function readArrays(spec: string, what = 'array'): Promise<Map<string, Tensor>> {
  const s = parseArraySpec(spec, what);
  const all = await readFileArrays(s.path, s.format, what);
  if (s.name === undefined) return all;
  const exact = all.get(s.name);
  if (exact) return new Map([[s.name, exact]]);
  const prefix = `${s.name}.`;
  const group = new Map([...all].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  if (group.size === 0) fail('ERR_INVALID_ARGUMENT', what, `an array named ${listNames(all)} in ${s.path}`, `'${s.name}'`);
  return group;
}

/** The one array `spec` names (or the file's only one). */
export async function readArray(spec: string, what = 'array'): Promise<Tensor> {
  const arrays = await readArrays(spec, what);
  if (arrays.size === 1) return arrays.values().next().value!;
  if (arrays.size === 0) return fail('ERR_INVALID_ARGUMENT', what, 'a file holding an array', `${spec} with none`);
  return fail('ERR_INVALID_ARGUMENT', what, `one array: name it with ${spec}:name, one of ${listNames(arrays)}`, `${arrays.size} arrays`);
}

function listNames(arrays: ReadonlyMap<string, unknown>): string {
  const names = [...arrays.keys()].map((n) => `'${n}'`);
  return names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

function shapeText(t: Tensor): string {
  return `shape [${t.shape.join(', ')}]`;
}

/** A 2-D array of any numeric dtype as an N×d float32 matrix (float16/bfloat16 exactly, the others rounded). */
export function toFeatures(t: Tensor, what = 'features'): Features {
  if (t.shape.length !== 2) fail('ERR_SHAPE', what, 'a 2-D array (rows × columns)', shapeText(t));
  return { data: toFloat32(t), rows: t.shape[0], dim: t.shape[1] };
}

/** Class labels of any integer dtype as int32: 1-D, or (N, 1) / (1, N) raveled. Floats are ERR_DTYPE. */
export function toLabels(t: Tensor, what = 'labels'): Int32Array {
  const ok = t.shape.length === 1 || (t.shape.length === 2 && (t.shape[0] === 1 || t.shape[1] === 1));
  if (!ok) fail('ERR_SHAPE', what, 'a 1-D array of labels (or N×1 / 1×N)', shapeText(t));
  return toInt32Labels(t, what);
}

/** A 1-D float array (bias, scores) as float32; float64 stays float64 only through toScores. */
export function toFloatVector(t: Tensor, what = 'vector'): Float32Array {
  if (t.shape.length !== 1) fail('ERR_SHAPE', what, 'a 1-D array', shapeText(t));
  if (!isFloatDType(t.dtype)) fail('ERR_DTYPE', what, 'a float dtype (float16, bfloat16, float32, float64)', t.dtype);
  return toFloat32(t);
}

/** 1-D scores: float64 keeps its precision, float16/bfloat16/float32 become float32. */
export function toScores(t: Tensor, what = 'scores'): Float32Array | Float64Array {
  if (t.shape.length !== 1) fail('ERR_SHAPE', what, 'a 1-D array of scores', shapeText(t));
  if (!isFloatDType(t.dtype)) fail('ERR_DTYPE', what, 'a float dtype (float16, bfloat16, float32, float64)', t.dtype);
  return t.data instanceof Float64Array ? t.data : toFloat32(t);
}

/** N×d features from `spec` (see parseArraySpec) as float32. */
export async function readFeatures(spec: string, what = 'features'): Promise<Features> {
  return toFeatures(await readArray(spec, what), what);
}

/** N labels from `spec` as int32. */
export async function readLabels(spec: string, what = 'labels'): Promise<Int32Array> {
  return toLabels(await readArray(spec, what), what);
}
