// Shared helpers for CLI commands: reading arrays from .npy/.npz files with friendly shape and dtype
// errors, and formatting numbers for tables. (Option parsers are in parse.ts.)
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';

import { fail } from '../errors.js';
import { readNpy, readNpz, toFloat32, toInt32Labels, type Tensor } from '../data/index.js';

/** A row-major float32 matrix with its shape. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

// ---- files -------------------------------------------------------------------------------------

/** Checks up front so a typo reads as a bad argument, not as an internal ENOENT error. */
export function requireFile(path: string, what: string): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // Missing or unreadable: reported below.
  }
  if (!isFile) fail('ERR_INVALID_ARGUMENT', what, 'an existing file', path);
}

export function isNpz(path: string): boolean {
  return extname(path).toLowerCase() === '.npz';
}

export async function loadNpy(path: string, what: string): Promise<Tensor> {
  requireFile(path, what);
  return readNpy(path);
}

export async function loadNpz(path: string, what: string): Promise<Map<string, Tensor>> {
  requireFile(path, what);
  return readNpz(path);
}

/**
 * Named arrays from either one .npz (names = array names, in archive order) or one or more .npy files
 * (names = file basenames without extension, in the order given).
 */
export async function loadNamed(paths: string[], what: string): Promise<Map<string, Tensor>> {
  if (paths.length === 1 && isNpz(paths[0])) return loadNpz(paths[0], what);
  if (paths.some(isNpz)) fail('ERR_INVALID_ARGUMENT', what, 'one .npz file or one or more .npy files', paths.join(', '));
  const named = new Map<string, Tensor>();
  for (const path of paths) {
    const name = basename(path, extname(path));
    if (named.has(name)) fail('ERR_INVALID_ARGUMENT', what, 'files with distinct base names (they name the layers)', `'${name}' twice`);
    named.set(name, await loadNpy(path, what));
  }
  return named;
}

// ---- shapes and dtypes -------------------------------------------------------------------------

function shapeText(t: Tensor): string {
  return `shape [${t.shape.join(', ')}]`;
}

function requireFloat(t: Tensor, what: string): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') fail('ERR_DTYPE', what, 'float32 or float64', t.dtype);
}

/** A 2-D float32/float64 array as a float32 matrix. */
export function toMatrix(t: Tensor, what: string): Matrix {
  if (t.shape.length !== 2) fail('ERR_SHAPE', what, 'a 2-D array (rows × columns)', shapeText(t));
  requireFloat(t, what);
  return { data: toFloat32(t), rows: t.shape[0], cols: t.shape[1] };
}

/** A 1-D float32/float64 array, as float32 (the native code's input type). */
export function toFloatVector(t: Tensor, what: string): Float32Array {
  if (t.shape.length !== 1) fail('ERR_SHAPE', what, 'a 1-D array', shapeText(t));
  requireFloat(t, what);
  return toFloat32(t);
}

/** A 1-D float32/float64 array as it is: scores keep their float64 precision. */
export function toScores(t: Tensor, what: string): Float32Array | Float64Array {
  if (t.shape.length !== 1) fail('ERR_SHAPE', what, 'a 1-D array of scores', shapeText(t));
  requireFloat(t, what);
  return t.data as Float32Array | Float64Array;
}

/** 1-D int32/int64/uint8 class labels as int32. */
export function toLabels(t: Tensor, what: string): Int32Array {
  if (t.shape.length !== 1) fail('ERR_SHAPE', what, 'a 1-D array of labels', shapeText(t));
  return toInt32Labels(t, what);
}

// ---- formatting --------------------------------------------------------------------------------

/** 4 significant digits for tables; '—' for metrics that were not computed. */
export function formatValue(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : x.toPrecision(4);
}
