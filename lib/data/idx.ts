/**
 * IDX files (the MNIST format), optionally gzip-compressed.
 * Layout: 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 dims, then big-endian data in C order.
 * http://yann.lecun.com/exdb/mnist/ (section "THE IDX FILE FORMAT")
 */
import * as zlib from 'node:zlib';
import { fail, isAllocationFailure, toNcodError } from '../errors.js';
import { allocateArray, checkArrayLength, elementCount, readFileBytes, typedView, type DType, type Tensor } from './tensor.js';

interface IdxType {
  name: string;
  size: number;
  dtype: DType;
  /** Reads element i (big-endian) into the output array. */
  read: (view: DataView, offset: number) => number;
}

// int8/int16 widen to int32, the closest DType; uint8 stays uint8 (MNIST images and labels).
const TYPES: Readonly<Record<number, IdxType>> = {
  0x08: { name: 'uint8', size: 1, dtype: 'uint8', read: (v, o) => v.getUint8(o) },
  0x09: { name: 'int8', size: 1, dtype: 'int32', read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', size: 2, dtype: 'int32', read: (v, o) => v.getInt16(o) },
  0x0c: { name: 'int32', size: 4, dtype: 'int32', read: (v, o) => v.getInt32(o) },
  0x0d: { name: 'float32', size: 4, dtype: 'float32', read: (v, o) => v.getFloat32(o) },
  0x0e: { name: 'float64', size: 8, dtype: 'float64', read: (v, o) => v.getFloat64(o) },
};

// A 4 KiB compressed prefix always holds the (at most 1 KiB) IDX header of a sane gzip stream.
const GZIP_PROBE_BYTES = 4096;
// Deflate cannot expand more than ~1032:1; a header claiming more than that is lying.
const MAX_DEFLATE_RATIO = 1032;

interface IdxHeader {
  type: IdxType;
  shape: number[];
  dataOffset: number;
  /** Total file size (header + data) that the header implies. */
  totalBytes: number;
}

/** Reads an IDX file, gzip-compressed or not (detected by content, not by name). */
export async function readIdx(path: string): Promise<Tensor> {
  return parseIdx(await readFileBytes(path), path);
}

/**
 * The dtype and shape an IDX file (plain or gzip) declares, from its first bytes only: callers compare headers (say,
 * the image count against the label count) before anything is decompressed. Only regular files are opened.
 */
export async function readIdxHeader(path: string): Promise<{ dtype: DType; shape: number[] }> {
  const { open, stat } = await import('node:fs/promises');
  let file: Awaited<ReturnType<typeof open>> | undefined;
  let prefix: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) fail('ERR_INVALID_ARGUMENT', path, 'a regular file', 'a directory, device, FIFO or socket');
    file = await open(path, 'r');
    const buffer = new Uint8Array(GZIP_PROBE_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    prefix = buffer.subarray(0, bytesRead);
  } catch (error) {
    throw toNcodError(error);
  } finally {
    await file?.close();
  }
  const raw = isGzip(prefix) ? gunzipOrFail(prefix, path, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : prefix;
  const header = parseHeader(raw, isGzip(prefix) ? `${path} (gzip)` : path);
  return { dtype: header.type.dtype, shape: header.shape };
}

/** Parses an IDX file (or a gzip of one) held in memory. uint8 data is a view on the (decompressed) bytes. */
export function parseIdx(bytes: Uint8Array, what = 'idx'): Tensor {
  const raw = isGzip(bytes) ? gunzip(bytes, what) : bytes;
  const header = parseHeader(raw, what);
  if (raw.length !== header.totalBytes) {
    const why = raw.length < header.totalBytes ? 'truncated' : 'trailing data';
    fail('ERR_FILE_FORMAT', what, `${header.totalBytes} bytes for shape [${header.shape.join(', ')}] of ${header.type.name}`, `${raw.length} (${why})`);
  }
  return { dtype: header.type.dtype, shape: header.shape, data: decode(raw, header, what) };
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function parseHeader(bytes: Uint8Array, what: string): IdxHeader {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    fail('ERR_FILE_FORMAT', what, 'IDX magic 00 00 <type> <ndim>', bytes.length < 4 ? `${bytes.length} bytes` : hexStart(bytes));
  }
  const type = TYPES[bytes[2]];
  if (type === undefined) fail('ERR_FILE_FORMAT', what, 'IDX type 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E', `0x${bytes[2].toString(16).padStart(2, '0')}`);
  const ndim = bytes[3];
  const dataOffset = 4 + 4 * ndim;
  if (bytes.length < dataOffset) fail('ERR_FILE_FORMAT', what, `${ndim} dimensions (${dataOffset} header bytes)`, `${bytes.length} bytes (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, dataOffset);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const count = elementCount(shape, `${what}: shape`, 'ERR_FILE_FORMAT');
  return { type, shape, dataOffset, totalBytes: dataOffset + count * type.size };
}

/** Big-endian file data to a native typed array. */
function decode(raw: Uint8Array, h: IdxHeader, what: string): Tensor['data'] {
  const count = (h.totalBytes - h.dataOffset) / h.type.size;
  // A plain Uint8Array view, even when `raw` is a Buffer (gunzip output).
  if (h.type.dtype === 'uint8') return typedView('uint8', raw, h.dataOffset, count);
  const out = allocateArray(h.type.dtype, count, what) as Float32Array | Float64Array | Int32Array;
  const view = new DataView(raw.buffer, raw.byteOffset + h.dataOffset, count * h.type.size);
  for (let i = 0; i < count; i++) out[i] = h.type.read(view, i * h.type.size);
  return out;
}

/**
 * Decompresses in two steps so the output is bounded by what the header claims: first a small prefix (sync flush,
 * so a partial stream is fine) to read the header, then the whole stream capped at the claimed size.
 */
function gunzip(bytes: Uint8Array, what: string): Uint8Array {
  const probe = gunzipOrFail(bytes.subarray(0, GZIP_PROBE_BYTES), what, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const header = parseHeader(probe, `${what} (gzip)`);
  const bound = bytes.length * MAX_DEFLATE_RATIO + 1024;
  if (header.totalBytes > bound) {
    fail('ERR_FILE_FORMAT', what, `at most ${bound} bytes from ${bytes.length} gzip bytes`, `a header claiming ${header.totalBytes}`);
  }
  // An honest claim past the typed-array limit: the decompressed file must fit in one Uint8Array.
  checkArrayLength(header.totalBytes, `${what} (decompressed)`, 'bytes');
  // Output past the claim makes zlib throw a RangeError (reported as such); a short stream is caught by parseIdx.
  return gunzipOrFail(bytes, what, { maxOutputLength: header.totalBytes });
}

function gunzipOrFail(bytes: Uint8Array, what: string, options: zlib.ZlibOptions): Uint8Array {
  try {
    return zlib.gunzipSync(bytes, options);
  } catch (err) {
    if (isAllocationFailure(err)) throw toNcodError(err); // memory, not the file
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof RangeError) return fail('ERR_FILE_FORMAT', what, 'no more data than the IDX header claims', message);
    return fail('ERR_FILE_FORMAT', what, 'valid gzip data', message);
  }
}

function hexStart(bytes: Uint8Array): string {
  return `bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}
