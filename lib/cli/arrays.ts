// Shared helpers for CLI commands: reading arrays through lib/data/read-array.ts (one file:name syntax and the
// same conversions for every command), and formatting numbers for tables. (Option parsers are in parse.ts.)
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';

import { fail } from '../errors.js';
import { parseArraySpec, readArray, readArrays, readFeatures, readLabels, toFeatures, toFloatVector, toScores, type Features } from '../data/read-array.js';
import type { Tensor } from '../data/tensor.js';
import { ArrayStream, openNamedStreams } from '../data/stream/source.js';
import { expandShards } from '../data/stream/shards.js';

export { readArray, readArrays, readFeatures, readLabels, toFeatures };
/** A row-major float32 matrix with its shape. */
export type Matrix = Features;

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

/** True when `spec` names a whole file that can hold several arrays (.npz, .safetensors, .pt) rather than one. */
export function isContainer(spec: string): boolean {
  const s = parseArraySpec(spec);
  return s.format !== 'npy' && s.name === undefined;
}

/**
 * Named arrays from either one file that holds several (names = the file's array names, in file order; with
 * file:name, that array or that group) or one or more single-array specs (names = the array's name, or the file's
 * base name for a .npy, in the order given).
 */
export async function loadNamed(specs: string[], what: string): Promise<Map<string, Tensor>> {
  const first = parseArraySpec(specs[0], what);
  if (specs.length === 1 && first.format !== 'npy') {
    const arrays = await readArrays(specs[0], what);
    // A .pt of one bare tensor names it '': the file's base name reads better as a layer name.
    const bare = arrays.get('');
    return bare && arrays.size === 1 ? new Map([[basename(first.path, extname(first.path)), bare]]) : arrays;
  }
  const containers = specs.filter(isContainer);
  if (containers.length > 0) fail('ERR_INVALID_ARGUMENT', what, 'one file with several arrays, or one array per --features (file or file:name)', specs.join(', '));
  const named = new Map<string, Tensor>();
  for (const spec of specs) {
    const s = parseArraySpec(spec, what);
    const name = s.name ?? basename(s.path, extname(s.path));
    if (named.has(name)) fail('ERR_INVALID_ARGUMENT', what, 'arrays with distinct names (they name the layers)', `'${name}' twice`);
    named.set(name, await readArray(spec, what));
  }
  return named;
}

/**
 * loadNamed's layers as streams, never read whole: one spec holding several arrays (or shards of such files) gives
 * one layer per array name; otherwise each spec (a file, file:name, or shards of it) is one layer.
 */
export async function openLayerStreams(specs: string[], what: string): Promise<Map<string, ArrayStream>> {
  const shards = await expandShards(specs[0], what);
  const first = shards[0];
  if (specs.length === 1 && first.format !== 'npy') {
    const layers = await openNamedStreams(specs[0], what);
    const bare = layers.get('');
    return bare && layers.size === 1 ? new Map([[basename(first.path, extname(first.path)), bare]]) : layers;
  }
  const named = new Map<string, ArrayStream>();
  for (const spec of specs) {
    const parts = await expandShards(spec, what);
    if (parts.some((p) => p.format !== 'npy' && p.name === undefined)) {
      fail('ERR_INVALID_ARGUMENT', what, 'one file with several arrays, or one array per --features (file or file:name)', specs.join(', '));
    }
    const name = parts[0].name ?? basename(parts[0].path, extname(parts[0].path)).replace(/[-_.]?\d+$/, (m) => (parts.length > 1 ? '' : m));
    if (named.has(name)) fail('ERR_INVALID_ARGUMENT', what, 'arrays with distinct names (they name the layers)', `'${name}' twice`);
    named.set(name, await ArrayStream.fromShards(parts, specs.length > 1 ? `${what} ${name}` : what));
  }
  return named;
}

/** N×d features as float32 (any numeric dtype). */
export async function loadMatrix(spec: string, what: string): Promise<Matrix> {
  return readFeatures(spec, what);
}

/** A 1-D float vector (a bias) as float32. */
export async function loadFloatVector(spec: string, what: string): Promise<Float32Array> {
  return toFloatVector(await readArray(spec, what), what);
}

/** 1-D scores; float64 keeps its precision. */
export async function loadScores(spec: string, what: string): Promise<Float32Array | Float64Array> {
  return toScores(await readArray(spec, what), what);
}

// ---- formatting --------------------------------------------------------------------------------

/** 4 significant digits for tables; '—' for metrics that were not computed. */
export function formatValue(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : x.toPrecision(4);
}
