// NC state files (.ncstate): an NcAccumulator's state as safetensors, checksummed, so shards accumulated anywhere
// (another process, another machine, a PyTorch rank with scripts/python/ncstate.py) merge exactly.
// The layout, the checksum's canonical encoding and the versioning policy are specified in docs/ncstate.md;
// keep the two in step.
//
// The format keeps the name version 1 had ('ncod.nc-accumulator'): it is the same tensors with the same meaning,
// so an old reader given a new file reports "version 2" (upgrade) rather than "not an ncod state".
import type { RawNcAccumulatorState } from '../../binding.js';
import { canonicalDigest } from '../data/integrity.js';
import type { Safetensors, Tensor } from '../data/index.js';
import { fail } from '../errors.js';
import { version as ncodVersion } from '../version.js';

export const STATE_FORMAT = 'ncod.nc-accumulator';
export const STATE_VERSION = 2;
/** Version 1 (ncod ≤ this change): the same tensors and metadata, without writer and sha256. */
const OLDEST_READABLE = 1;
/** The metadata the checksum covers, in this order (docs/ncstate.md). */
export const SIGNED_METADATA = ['format', 'version', 'dim', 'classes', 'writer'] as const;
// The same limits as the native accumulator (native/core/nc_accumulator.cpp), checked here first so that a small
// file claiming huge sizes is refused before anything of those sizes is looked at.
const MAX_DIM = 16384;
const MAX_CLASSES = 2 ** 20;

type Key = 'shift' | 'counts' | 'sums' | 'sqNorms' | 'scatter' | 'oodSums' | 'oodCount';

function shapes(dim: number, classes: number, shiftLength: number): Record<Key, number[]> {
  return {
    shift: [shiftLength],
    counts: [classes],
    sums: [classes, dim],
    sqNorms: [classes],
    scatter: [dim, dim],
    oodSums: [dim],
    oodCount: [1],
  };
}

/** The tensors and signed metadata of a state, as save() and serialize() write them. */
export function encodeState(s: RawNcAccumulatorState): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const data: Record<Key, Float64Array> = { ...s, oodCount: Float64Array.of(s.oodCount) };
  const tensors = new Map<string, Tensor>();
  for (const [key, shape] of Object.entries(shapes(s.dim, s.classes, s.shift.length))) {
    tensors.set(key, { dtype: 'float64', shape, data: data[key as Key] });
  }
  const metadata: Record<string, string> = {
    format: STATE_FORMAT,
    version: String(STATE_VERSION),
    dim: String(s.dim),
    classes: String(s.classes),
    writer: `ncod ${ncodVersion}`,
  };
  metadata.sha256 = canonicalDigest(SIGNED_METADATA, metadata, tensors);
  return { tensors, metadata };
}

/** A canonical decimal integer in [min, max] (so "08" or " 8" in a signed field cannot mean 8). */
function sizeField(value: string | undefined, key: string, min: number, max: number, bad: (e: string, g: string) => never): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || String(n) !== value || n < min || n > max) {
    bad(`metadata ${key} as an integer in [${min}, ${max}]`, value === undefined ? 'none' : JSON.stringify(value));
  }
  return n;
}

/**
 * The state a parsed safetensors file holds, after every check that needs no native code: format and version, the
 * checksum (version 2), dim and classes, exactly the expected tensors with their dtype and shape, finite values,
 * whole non-negative counts. Anything else is ERR_FILE_FORMAT "what: expected X, got Y".
 */
export function decodeState({ tensors, metadata }: Safetensors, what: string): RawNcAccumulatorState {
  const bad = (expected: string, got: string): never => fail('ERR_FILE_FORMAT', what, expected, got);
  if (metadata.format !== STATE_FORMAT) {
    bad(`an NC state (format ${STATE_FORMAT})`, metadata.format === undefined ? 'no format' : `format ${metadata.format}`);
  }
  const version = Number(metadata.version);
  if (Number.isInteger(version) && version > STATE_VERSION) {
    bad(`version ≤ ${STATE_VERSION} (this is ncod ${ncodVersion})`, `version ${version}, written by ${metadata.writer ?? 'a newer ncod'}: upgrade ncod to read it`);
  }
  if (!Number.isInteger(version) || version < OLDEST_READABLE || String(version) !== metadata.version) {
    bad(`version ${OLDEST_READABLE} to ${STATE_VERSION}`, JSON.stringify(metadata.version));
  }
  if (version >= 2) {
    const digest = canonicalDigest(SIGNED_METADATA, metadata, tensors);
    if (metadata.sha256 !== digest) {
      bad(`contents matching the recorded SHA-256 ${metadata.sha256 ?? '(none)'}`, `contents with SHA-256 ${digest}: the file is damaged or was edited`);
    }
  }
  const dim = sizeField(metadata.dim, 'dim', 1, MAX_DIM, bad);
  const classes = sizeField(metadata.classes, 'classes', 2, MAX_CLASSES, bad);

  const shift = tensors.get('shift');
  const expected = shapes(dim, classes, shift?.shape[0] === 0 ? 0 : dim);
  const names = Object.keys(expected).sort();
  const got = [...tensors.keys()].sort();
  if (got.join() !== names.join()) bad(`the tensors ${names.join(', ')}`, got.length === 0 ? 'none' : got.join(', '));
  const array = (key: Key): Float64Array => {
    const t = tensors.get(key)!;
    const shape = expected[key];
    if (t.dtype !== 'float64') bad(`tensor ${key} as float64`, t.dtype);
    if (t.shape.join() !== shape.join()) bad(`tensor ${key} of shape [${shape.join(', ')}] (dim ${dim}, classes ${classes})`, `[${t.shape.join(', ')}]`);
    const data = t.data as Float64Array;
    const k = data.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) bad(`finite values in ${key}`, `${data[k]} at ${key}[${k}]`);
    return data;
  };
  const state: RawNcAccumulatorState = {
    dim,
    classes,
    shift: array('shift'),
    counts: array('counts'),
    sums: array('sums'),
    sqNorms: array('sqNorms'),
    scatter: array('scatter'),
    oodCount: array('oodCount')[0],
    oodSums: array('oodSums'),
  };
  for (const [key, values] of [['counts', state.counts], ['oodCount', [state.oodCount]]] as const) {
    const k = values.findIndex((c) => c < 0 || !Number.isInteger(c));
    if (k >= 0) bad(`whole non-negative numbers in ${key}`, `${values[k]} at ${key}[${k}]`);
  }
  if (shift!.data.length === 0 && state.counts.some((c) => c > 0)) bad('a shift tensor of dim values when counts are non-zero', 'an empty shift');
  return state;
}
