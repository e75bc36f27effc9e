/**
 * Memory-layout fixes shared by the readers: big-endian data swapped to the host's little-endian order, and
 * strided data (Fortran-order .npy, torch views with an offset and strides) gathered into a dense C-order array.
 */
import { fail } from '../errors.js';
import { allocateArray, type DType, type TensorData } from './tensor.js';

/** Reverses the bytes of every `itemSize`-byte element of `bytes` in place. */
export function byteswap(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  if (bytes.length % itemSize !== 0) fail('ERR_FILE_FORMAT', 'byte swap', `a multiple of ${itemSize} bytes`, `${bytes.length}`);
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** The strides (in elements) of a dense Fortran-order (column-major) array of `shape`. */
export function fortranStrides(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let s = 1;
  for (const d of shape) {
    strides.push(s);
    s *= d;
  }
  return strides;
}

/** The strides (in elements) of a dense C-order (row-major) array of `shape`. */
export function cStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

/**
 * Checks that every element that (shape, strides, offset) addresses lies within `length` elements of the source:
 * a hostile file must not make the gather read past its storage. Strides must be non-negative (torch and numpy
 * files never store negative ones).
 */
export function checkStridedBounds(shape: readonly number[], strides: readonly number[], offset: number, length: number, what: string): void {
  if (shape.length !== strides.length) fail('ERR_FILE_FORMAT', what, `${shape.length} strides (one per dim)`, `${strides.length}`);
  if (!Number.isSafeInteger(offset) || offset < 0) fail('ERR_FILE_FORMAT', what, 'a non-negative storage offset', String(offset));
  if (strides.some((s) => !Number.isSafeInteger(s) || s < 0)) fail('ERR_FILE_FORMAT', what, 'non-negative integer strides', `(${strides.join(', ')})`);
  if (shape.some((d) => d === 0)) return; // addresses nothing
  let last = offset;
  for (let k = 0; k < shape.length; k++) last += (shape[k] - 1) * strides[k];
  if (last >= length) {
    fail('ERR_FILE_FORMAT', what, `a view within its storage of ${length} elements`, `size (${shape.join(', ')}), stride (${strides.join(', ')}), offset ${offset} reaching element ${last}`);
  }
}

/** True when (shape, strides) is the dense C layout, so a plain subarray is the answer. */
export function isCContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  const c = cStrides(shape);
  // Strides of size-1 dims never matter.
  return shape.every((d, k) => d === 1 || strides[k] === c[k]);
}

/**
 * A dense C-order copy of the strided view (shape, strides, offset) of `src`. The caller has checked the bounds
 * (checkStridedBounds). The innermost dimension is copied in a tight loop, the outer ones walk an index odometer.
 */
export function gatherStrided(dtype: DType, src: TensorData, shape: readonly number[], strides: readonly number[], offset: number): TensorData {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = allocateArray(dtype, count, 'a C-order copy of a strided array');
  if (count === 0) return out;
  if (shape.length === 0) {
    (out as Float64Array)[0] = (src as Float64Array)[offset];
    return out;
  }
  // Typed as one concrete class so the element copy type-checks; every TensorData copies the same way.
  const s = src as unknown as Float64Array;
  const o = out as unknown as Float64Array;
  const nd = shape.length;
  const inner = shape[nd - 1];
  const innerStride = strides[nd - 1];
  const index = new Array<number>(nd - 1).fill(0);
  let base = offset;
  for (let p = 0; p < count; p += inner) {
    for (let j = 0, q = base; j < inner; j++, q += innerStride) o[p + j] = s[q];
    // Advance the odometer over the outer dims, last outer dim fastest.
    for (let k = nd - 2; k >= 0; k--) {
      index[k]++;
      base += strides[k];
      if (index[k] < shape[k]) break;
      base -= strides[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}
