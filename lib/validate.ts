// Argument checks for the public API. Native code checks again; these give the friendliest message first.
import { describe, fail } from './errors.js';

export function checkFloat32(what: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) fail('ERR_DTYPE', what, 'Float32Array', describe(value));
  return value;
}

export function checkInt32(what: string, value: unknown): Int32Array {
  if (!(value instanceof Int32Array)) fail('ERR_DTYPE', what, 'Int32Array', describe(value));
  return value;
}

export function checkInteger(what: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail('ERR_INVALID_ARGUMENT', what, `an integer in [${min}, ${max}]`, describe(value));
  }
  return value;
}

/** Rows of a row-major matrix given its flat length and the row count or the dimension. */
export function matrixShape(what: string, length: number, rows: number, dim?: number): { rows: number; dim: number } {
  if (rows < 1) fail('ERR_SHAPE', what, 'at least one row', '0 rows');
  const d = dim ?? length / rows;
  if (!Number.isInteger(d) || d < 1 || d * rows !== length) {
    fail('ERR_SHAPE', what, `${rows} rows × ${dim ?? 'dim'} columns`, `${length} elements`);
  }
  return { rows, dim: d };
}
