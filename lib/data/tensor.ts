/** Shared tensor type for the file readers/writers, plus small file helpers they all use. */
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NcodError, fail, isAllocationFailure, type ErrorCode } from '../errors.js';
import { bfloat16ToFloat32, halfToFloat32 } from './half.js';

/**
 * Element types the readers produce. float16 and bfloat16 are held as their raw 16-bit patterns in a Uint16Array
 * (no Float16Array on the supported Node versions); toFloat32 converts them exactly. bool arrays read as uint8.
 */
export type DType =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A dense, C-ordered (row-major) array. `data.length` equals the product of `shape` ([] is a scalar). */
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export const DTYPES: readonly DType[] = ['float16', 'bfloat16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/** Bytes per element. */
export const ITEM_SIZE: Readonly<Record<DType, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
};

type TypedArrayCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

const CTORS: Readonly<Record<DType, TypedArrayCtor>> = {
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
};

/** Floating-point dtypes (features, scores); the others are integers (labels). */
export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float32' || dtype === 'float64';
}

/** The most dimensions a shape may have: far beyond any real array (NumPy stops at 64), low enough to refuse a sparse array with a huge length at once. */
export const MAX_DIMS = 1 << 16;

/** Product of the dims; every dim must be a non-negative safe integer and the product must stay exact. */
export function elementCount(shape: readonly number[], what = 'shape', code: ErrorCode = 'ERR_SHAPE'): number {
  // The length first: a sparse array with a huge length would otherwise be walked (and joined into the message).
  if (!Array.isArray(shape) || shape.length > MAX_DIMS) {
    fail(code, what, `an array of at most ${MAX_DIMS} dimensions`, Array.isArray(shape) ? `${shape.length} entries` : typeof shape);
  }
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) fail(code, what, 'non-negative integer dimensions', `[${shape.join(', ')}]`);
    count *= dim;
    // Checked after each step: a later zero dim must not hide an overflow we already passed.
    if (count > Number.MAX_SAFE_INTEGER) fail(code, what, `at most ${Number.MAX_SAFE_INTEGER} elements`, `[${shape.join(', ')}]`);
  }
  return count;
}

/**
 * The most elements one typed array can hold. A Buffer is a Uint8Array, so Node's Buffer limit is V8's typed-array
 * limit: 2^32 on Node 20, 2^53 − 1 from Node 22. Readers refuse larger inputs up front (ERR_TOO_LARGE) rather than
 * failing in the allocation with a bare RangeError.
 */
export const MAX_ARRAY_LENGTH: number = bufferConstants.MAX_LENGTH;

/** Refuses `count` elements (or bytes, for a byte array) that no typed array can hold: ERR_TOO_LARGE. */
export function checkArrayLength(count: number, what: string, unit = 'elements'): void {
  if (count > MAX_ARRAY_LENGTH) {
    fail('ERR_TOO_LARGE', what, `at most ${MAX_ARRAY_LENGTH} ${unit} in one array (the typed-array limit; the streaming commands have none)`, `${count}`);
  }
}

/** A zeroed buffer of `byteLength` bytes; a failed allocation is ERR_OUT_OF_MEMORY saying how much was asked for. */
export function allocateBytes(byteLength: number, what: string): ArrayBuffer {
  try {
    return new ArrayBuffer(byteLength);
  } catch (error) {
    if (!isAllocationFailure(error)) throw error;
    throw new NcodError('ERR_OUT_OF_MEMORY', `${what}: expected ${byteLength} bytes of free memory, got an allocation failure`, { cause: error });
  }
}

/** A zeroed typed array of `count` elements: ERR_TOO_LARGE past the typed-array limit, ERR_OUT_OF_MEMORY if memory is short. */
export function allocateArray(dtype: DType, count: number, what: string): TensorData {
  checkArrayLength(count, what);
  return new CTORS[dtype](allocateBytes(count * ITEM_SIZE[dtype], what));
}

/**
 * Typed array of `dtype` over `length` elements of `bytes` starting at `byteOffset` (relative to `bytes`).
 * A view (no copy) when the absolute offset is aligned to the element size, else a copy.
 * Assumes a little-endian host (x64, arm64), which is what every format here stores.
 */
export function typedView(dtype: DType, bytes: Uint8Array, byteOffset: number, length: number): TensorData {
  const Ctor = CTORS[dtype];
  const start = bytes.byteOffset + byteOffset;
  // The cast only narrows the TS type: SharedArrayBuffer-backed views work the same.
  if (start % ITEM_SIZE[dtype] === 0) return new Ctor(bytes.buffer as ArrayBuffer, start, length);
  const copy = allocateArray(dtype, length, 'an aligned copy of the data');
  new Uint8Array(copy.buffer).set(bytes.subarray(byteOffset, byteOffset + copy.byteLength));
  return copy;
}

/** The tensor's bytes, as a view on its data (no copy). */
export function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Checks that `t` is self-consistent before it is written: typed array class matches dtype, length matches shape. */
export function checkTensor(t: Tensor, what = 'tensor'): void {
  if (!DTYPES.includes(t.dtype)) fail('ERR_DTYPE', `${what}.dtype`, DTYPES.join(' | '), String(t.dtype));
  const Ctor = CTORS[t.dtype];
  if (!(t.data instanceof Ctor)) fail('ERR_DTYPE', `${what}.data`, `${Ctor.name} for dtype ${t.dtype}`, t.data?.constructor?.name ?? typeof t.data);
  const count = elementCount(t.shape, `${what}.shape`);
  if (t.data.length !== count) fail('ERR_SHAPE', `${what}.data`, `${count} elements for shape [${t.shape.join(', ')}]`, `${t.data.length}`);
}

/**
 * The data as float32: the same array (no copy) when already float32, else a converted copy. float16 and bfloat16
 * convert exactly; float64 and 64-bit integers round to the nearest float32.
 */
export function toFloat32(t: Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  const out = allocateArray('float32', d.length, 'a float32 copy of the data') as Float32Array;
  if (t.dtype === 'float16') return halfToFloat32(d as Uint16Array, out);
  if (t.dtype === 'bfloat16') return bfloat16ToFloat32(d as Uint16Array, out);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    out.set(d);
  }
  return out;
}

const INT32_MAX = 2147483647;

/**
 * Class labels as int32: int32 as-is (no copy); every other integer dtype converted. Values outside int32 throw
 * ERR_LABEL_RANGE naming the first one; float dtypes throw ERR_DTYPE (a float label is a mistake, not a class).
 */
export function toInt32Labels(t: Tensor, what = 'labels'): Int32Array {
  const d = t.data;
  if (isFloatDType(t.dtype)) return fail('ERR_DTYPE', what, 'integer labels (int8/16/32/64 or uint8/16/32/64)', t.dtype);
  if (d instanceof Int32Array) return d;
  const out = allocateArray('int32', d.length, `${what}: an int32 copy`) as Int32Array;
  if (d instanceof Int8Array || d instanceof Int16Array || d instanceof Uint8Array || d instanceof Uint16Array) {
    out.set(d); // always in range
    return out;
  }
  if (d instanceof Uint32Array) {
    for (let i = 0; i < d.length; i++) {
      if (d[i] > INT32_MAX) fail('ERR_LABEL_RANGE', `${what}[${i}]`, 'a value within int32 range', String(d[i]));
      out[i] = d[i];
    }
    return out;
  }
  const big = d as BigInt64Array | BigUint64Array;
  for (let i = 0; i < big.length; i++) {
    const v = big[i];
    if (v < -2147483648n || v > 2147483647n) fail('ERR_LABEL_RANGE', `${what}[${i}]`, 'a value within int32 range', String(v));
    out[i] = Number(v);
  }
  return out;
}

// ---- file helpers ------------------------------------------------------------------------------

// fs reads and writes are capped near 2 GiB per call, so big files go in chunks.
const IO_CHUNK = 1 << 30;

/**
 * Reads exactly `target.byteLength` bytes at `position` into any typed array, in chunks through byte views: a
 * float32 array may hold more bytes than one Uint8Array can. A short read (the file shrank) is a format error.
 */
export async function readExactly(
  handle: FileHandle,
  target: ArrayBufferView,
  position: number,
  what: string,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const n = Math.min(IO_CHUNK, target.byteLength - done);
    const { bytesRead } = await handle.read(new Uint8Array(target.buffer, target.byteOffset + done, n), 0, n, position + done);
    if (bytesRead === 0) fail('ERR_FILE_FORMAT', what, `${target.byteLength} bytes at offset ${position}`, `end of file after ${done}`);
    done += bytesRead;
  }
}

/** Whole file in one fresh buffer (byteOffset 0, so typed views on it are aligned). Works past readFile's 2 GiB cap. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  // Regular files only: opening a FIFO would wait for a writer forever, and a device has no size to read.
  if (!(await stat(path)).isFile()) fail('ERR_INVALID_ARGUMENT', path, 'a regular file', 'a directory, device, FIFO or socket');
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    checkArrayLength(size, `${path} (read whole)`, 'bytes');
    const bytes = new Uint8Array(allocateBytes(size, path));
    await readExactly(handle, bytes, 0, path);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Writes `chunks` to a temp file next to `path`, syncs it, then renames it over `path`: readers never see a half file. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    let position = 0;
    for (const chunk of chunks) {
      for (let off = 0; off < chunk.length; ) {
        const n = Math.min(IO_CHUNK, chunk.length - off);
        const { bytesWritten } = await handle.write(chunk, off, n, position);
        off += bytesWritten;
        position += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Concatenates chunks into one buffer. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  checkArrayLength(total, 'the encoded file (one buffer; write it to a file instead)', 'bytes');
  const out = new Uint8Array(allocateBytes(total, 'the encoded file'));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
