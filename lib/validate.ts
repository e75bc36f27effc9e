// Argument checks for the public API. Native code checks again; these give the friendliest message first.
import { describe, fail } from './errors.js';

/** Float inputs the API accepts; the native code takes float32, so float64 is converted (a copy) on the way in. */
export type FloatArray = Float32Array | Float64Array;

/** Integer (label) inputs the API accepts; the native code takes int32, so the others are converted (a copy). */
export type IntegerArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A Float32Array as it is (no copy), or a float32 copy of a Float64Array. A finite float64 beyond float32's range
 * would turn into ±Infinity, so it is refused here (ERR_NOT_FINITE) naming the element; NaN and ±Infinity pass
 * through unchanged for the native finiteness checks to report as they always have.
 */
export function checkFloat32(what: string, value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (!(value instanceof Float64Array)) fail('ERR_DTYPE', what, 'Float32Array or Float64Array', describe(value));
  const out = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    // Values within half an ulp past FLOAT32_MAX still round to it; only those that would round to ±Infinity fail.
    if (Math.abs(v) > FLOAT32_MAX && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) {
      fail('ERR_NOT_FINITE', `${what}[${i}]`, 'a value within float32 range (|x| ≤ 3.4028235e38)', String(v));
    }
    out[i] = v;
  }
  return out;
}

/**
 * An Int32Array as it is (no copy), or an int32 copy of any other integer typed array. Values outside int32 are
 * ERR_LABEL_RANGE naming the first one (they could not be class ids anyway); float arrays are ERR_DTYPE.
 */
export function checkInt32(what: string, value: unknown): Int32Array {
  if (value instanceof Int32Array) return value;
  if (value instanceof Int8Array || value instanceof Int16Array || value instanceof Uint8Array || value instanceof Uint8ClampedArray || value instanceof Uint16Array) {
    return Int32Array.from(value);
  }
  if (value instanceof Uint32Array) {
    const out = new Int32Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if (value[i] > 2147483647) fail('ERR_LABEL_RANGE', `${what}[${i}]`, 'a value within int32 range', String(value[i]));
      out[i] = value[i];
    }
    return out;
  }
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    const out = new Int32Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v < -2147483648n || v > 2147483647n) fail('ERR_LABEL_RANGE', `${what}[${i}]`, 'a value within int32 range', String(v));
      out[i] = Number(v);
    }
    return out;
  }
  return fail('ERR_DTYPE', what, 'an integer typed array (Int32Array, Int8/16Array, Uint8/16/32Array, BigInt64Array, BigUint64Array)', describe(value));
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
