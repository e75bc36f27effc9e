/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0): float16/32/64, int8..int64, uint8..uint64 and bool (read as
 * uint8), either byte order, C or Fortran order. Reading always gives little-endian, C-order data: big-endian data is
 * byte-swapped and Fortran-order data (what `np.save` writes for a transposed array, e.g. `t.T.numpy()`) transposed.
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fail } from '../errors.js';
import { byteswap, fortranStrides, gatherStrided } from './layout.js';
import {
  ITEM_SIZE,
  allocateArray,
  checkTensor,
  concatBytes,
  elementCount,
  readExactly,
  tensorBytes,
  typedView,
  writeFileAtomic,
  type DType,
  type Tensor,
  type TensorData,
} from './tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const MAX_HEADER_BYTES = 1 << 20;
const ALIGN = 64; // numpy pads magic + header to a multiple of 64 so the data is aligned

// Kind letter and item size of a descr ('<f4' → f, 4) → dtype. 'b1' is numpy's bool: 0/1 bytes, read as uint8.
const KIND_SIZE_TO_DTYPE: Readonly<Record<string, DType>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'uint8',
};

// What ncod writes; bfloat16 has no numpy dtype, so it cannot be written as .npy.
const DTYPE_TO_DESCR: Readonly<Partial<Record<DType, string>>> = {
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  uint64: '<u8',
};

interface Preamble {
  headerStart: number;
  headerLength: number;
  utf8: boolean;
}

export interface NpyHeader {
  dtype: DType;
  shape: number[];
  count: number;
  dataBytes: number;
  bigEndian: boolean;
  fortranOrder: boolean;
}

// ---- reading -----------------------------------------------------------------------------------

/** Parses a whole .npy file held in memory. The result is a view on `bytes` when the data is aligned, else a copy. */
export function parseNpy(bytes: Uint8Array, what = 'npy'): Tensor {
  const pre = parsePreamble(bytes, what);
  const dataOffset = pre.headerStart + pre.headerLength;
  if (dataOffset > bytes.length) {
    fail('ERR_FILE_FORMAT', what, `a header of ${pre.headerLength} bytes`, `only ${bytes.length - pre.headerStart} bytes after the preamble`);
  }
  const header = parseHeader(bytes.subarray(pre.headerStart, dataOffset), pre.utf8, what);
  checkDataSize(header, bytes.length - dataOffset, what);
  let data = typedView(header.dtype, bytes, dataOffset, header.count);
  // Swapping happens in place, so it must not touch the caller's buffer.
  if (header.bigEndian && ITEM_SIZE[header.dtype] > 1 && data.buffer === bytes.buffer) data = data.slice();
  return toHostLayout(header, data);
}

/** Big-endian data swapped in place to little-endian; Fortran-order data gathered into C order. */
function toHostLayout(header: NpyHeader, data: TensorData): Tensor {
  if (header.bigEndian) byteswap(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ITEM_SIZE[header.dtype]);
  // With at most one dimension longer than 1, Fortran and C order are the same bytes.
  if (header.fortranOrder && header.shape.filter((d) => d > 1).length > 1) {
    data = gatherStrided(header.dtype, data, header.shape, fortranStrides(header.shape), 0);
  }
  return { dtype: header.dtype, shape: header.shape, data };
}

/**
 * Reads a .npy file. The header is read and validated against the file size first, then the data is read once
 * straight into its typed array (aligned, no second copy; a float32 array may hold more bytes than one Uint8Array
 * could). More elements than a typed array holds is ERR_TOO_LARGE, before anything is allocated.
 */
export async function readNpy(path: string): Promise<Tensor> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const { header, dataOffset } = await readNpyHeader(handle, 0, size, path);
    const data = allocateArray(header.dtype, header.count, path);
    await readExactly(handle, data, dataOffset, path);
    return toHostLayout(header, data);
  } finally {
    await handle.close();
  }
}

/**
 * The header of an .npy held in `size` bytes at `start` of an open file (the whole file, or a stored .npz member),
 * validated against that size; the data begins at `dataOffset`. Nothing of the data's size is allocated.
 */
export async function readNpyHeader(handle: FileHandle, start: number, size: number, what: string): Promise<{ header: NpyHeader; dataOffset: number }> {
  const prefix = new Uint8Array(Math.min(size, 12));
  await readExactly(handle, prefix, start, what);
  const pre = parsePreamble(prefix, what);
  const dataOffset = pre.headerStart + pre.headerLength;
  if (dataOffset > size) fail('ERR_FILE_FORMAT', what, `a header of ${pre.headerLength} bytes`, `${size} bytes in all`);
  const headerBytes = new Uint8Array(pre.headerLength);
  await readExactly(handle, headerBytes, start + pre.headerStart, what);
  const header = parseHeader(headerBytes, pre.utf8, what);
  checkDataSize(header, size - dataOffset, what);
  return { header, dataOffset: start + dataOffset };
}

/** The header at the start of `bytes` (the first inflated bytes of a deflated member) and where its data begins. */
export function parseNpyPrefix(bytes: Uint8Array, what: string): { header: NpyHeader; dataOffset: number } | undefined {
  if (bytes.length < 12) return undefined;
  const pre = parsePreamble(bytes, what);
  const dataOffset = pre.headerStart + pre.headerLength;
  if (dataOffset > bytes.length) return undefined;
  return { header: parseHeader(bytes.subarray(pre.headerStart, dataOffset), pre.utf8, what), dataOffset };
}

/** Magic, version and header length. `bytes` may be just the first 12 bytes of the file. */
function parsePreamble(bytes: Uint8Array, what: string): Preamble {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('ERR_FILE_FORMAT', what, 'the .npy magic "\\x93NUMPY"', describeStart(bytes));
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail('ERR_FILE_FORMAT', what, 'format version 1.0, 2.0 or 3.0', `${major}.${minor}`);
  }
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) {
    fail('ERR_FILE_FORMAT', what, `a ${headerStart}-byte preamble`, `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerStart);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    fail('ERR_FILE_FORMAT', what, `a header of at most ${MAX_HEADER_BYTES} bytes`, `${headerLength}`);
  }
  return { headerStart, headerLength, utf8: major === 3 };
}

/** Decodes and validates the header dict: descr, fortran_order and shape, nothing else. */
function parseHeader(headerBytes: Uint8Array, utf8: boolean, what: string): NpyHeader {
  let text: string;
  try {
    text = utf8 ? new TextDecoder('utf-8', { fatal: true }).decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');
  } catch {
    return fail('ERR_FILE_FORMAT', what, 'a UTF-8 header', 'invalid UTF-8');
  }
  const dict = parsePyDict(text, what);
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    fail('ERR_FILE_FORMAT', `${what}: header`, "exactly the keys 'descr', 'fortran_order', 'shape'", keys || 'no keys');
  }
  const fortranOrder = checkFortranOrder(dict.get('fortran_order'), what);
  const { dtype, bigEndian } = headerDtype(dict.get('descr'), what);
  const shape = headerShape(dict.get('shape'), what);
  const count = elementCount(shape, `${what}: shape`, 'ERR_FILE_FORMAT');
  return { dtype, shape, count, dataBytes: count * ITEM_SIZE[dtype], bigEndian, fortranOrder };
}

const SUPPORTED_DESCRS = "a numeric dtype: '<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8' or '|b1' (either byte order)";

function headerDtype(descr: PyValue | undefined, what: string): { dtype: DType; bigEndian: boolean } {
  if (typeof descr !== 'string') {
    const got = descr instanceof PyList ? `a structured dtype ${describePy(descr)}` : describePy(descr);
    return fail('ERR_FILE_FORMAT', `${what}: descr`, 'a dtype string', got);
  }
  // '<' little, '>' big, '|' not applicable (1-byte types), '=' native (little on every host ncod runs on).
  const m = /^([<>|=])([fiub]\d+)$/.exec(descr);
  const dtype = m ? KIND_SIZE_TO_DTYPE[m[2]] : undefined;
  if (m === null || dtype === undefined || (m[1] === '|' && ITEM_SIZE[dtype] > 1)) {
    return fail('ERR_FILE_FORMAT', `${what}: descr`, SUPPORTED_DESCRS, `'${descr}'`);
  }
  return { dtype, bigEndian: m[1] === '>' };
}

function headerShape(shape: PyValue | undefined, what: string): number[] {
  if (!Array.isArray(shape)) return fail('ERR_FILE_FORMAT', `${what}: shape`, 'a tuple of integers', describePy(shape));
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      fail('ERR_FILE_FORMAT', `${what}: shape`, 'non-negative integer dimensions', describePy(shape));
    }
  }
  return shape as number[];
}

function checkFortranOrder(order: PyValue | undefined, what: string): boolean {
  if (order !== true && order !== false) fail('ERR_FILE_FORMAT', `${what}: fortran_order`, 'True or False', describePy(order));
  return order;
}

/** The header's claimed data size must match the bytes actually present; checked before anything is allocated. */
function checkDataSize(header: NpyHeader, available: number, what: string): void {
  if (header.dataBytes !== available) {
    const claim = `${header.dataBytes} data bytes for shape ${pyTuple(header.shape)} of ${header.dtype}`;
    fail('ERR_FILE_FORMAT', what, claim, `${available} (${header.dataBytes > available ? 'truncated' : 'trailing data'})`);
  }
}

/** Python tuple syntax: (), (3,), (7, 13). */
function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length < 8 ? `only ${bytes.length} bytes (${hex})` : `bytes ${hex}`;
}

// ---- strict parser for the header's Python literal ---------------------------------------------
// Grammar: dict of 'str' keys; values are 'str', True, False, None, int, or tuples/lists of values. No eval.

class PyList {
  constructor(readonly items: PyValue[]) {}
}
/** Tuples are JS arrays; lists are PyList (only seen in structured dtypes, which are rejected). */
type PyValue = string | number | boolean | null | PyValue[] | PyList;

const MAX_DEPTH = 8;

function parsePyDict(text: string, what: string): Map<string, PyValue> {
  const p = new PyParser(text, `${what}: header`);
  const dict = p.dict();
  p.skipSpace();
  if (!p.atEnd()) p.error('only whitespace after the dict');
  return dict;
}

class PyParser {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly what: string,
  ) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  skipSpace(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i])) this.i++;
  }

  error(expected: string): never {
    const got = this.atEnd() ? 'end of header' : `${JSON.stringify(this.s.slice(this.i, this.i + 20))} at offset ${this.i}`;
    return fail('ERR_FILE_FORMAT', this.what, expected, got);
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.s[this.i] !== ch) this.error(`'${ch}'`);
    this.i++;
  }

  dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.expect('{');
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === '}') break;
      const key = this.string();
      if (out.has(key)) this.error(`no duplicate key '${key}'`);
      this.expect(':');
      out.set(key, this.value(1));
      this.skipSpace();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.error("',' or '}'");
    }
    this.i++;
    return out;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.error(`nesting of at most ${MAX_DEPTH}`);
    this.skipSpace();
    const c = this.s[this.i];
    if (c === "'" || c === '"') return this.string();
    if (c === '(') return this.sequence(')', depth);
    if (c === '[') return new PyList(this.sequence(']', depth));
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.integer();
  }

  private string(): string {
    this.skipSpace();
    const quote = this.s[this.i];
    if (quote !== "'" && quote !== '"') this.error('a quoted string');
    const end = this.s.indexOf(quote, this.i + 1);
    if (end < 0) this.error('a closing quote');
    const body = this.s.slice(this.i + 1, end);
    if (body.includes('\\') || body.includes('\n')) this.error('a plain string literal without escapes');
    this.i = end + 1;
    return body;
  }

  /** "(a, b)", "(a,)", "()" and lists alike; "(a)" is not a tuple in Python, so it is rejected. */
  private sequence(close: string, depth: number): PyValue[] {
    this.i++;
    const items: PyValue[] = [];
    let trailingComma = false;
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === close) break;
      items.push(this.value(depth + 1));
      this.skipSpace();
      trailingComma = this.s[this.i] === ',';
      if (trailingComma) this.i++;
      else if (this.s[this.i] !== close) this.error(`',' or '${close}'`);
    }
    if (close === ')' && items.length === 1 && !trailingComma) this.error("a tuple ('(n,)'), not a parenthesized value");
    this.i++;
    return items;
  }

  /** Python int, optionally with Python 2's "L" suffix. Anything float-like is rejected. */
  private integer(): number {
    const m = /[-+]?\d+L?/y;
    m.lastIndex = this.i;
    const found = m.exec(this.s);
    if (!found) return this.error('a string, True, False, None, an integer or a tuple');
    const next = this.s[this.i + found[0].length];
    if (next === '.' || next === 'e' || next === 'E') this.error('an integer');
    this.i += found[0].length;
    return Number(found[0].replace('L', ''));
  }
}

function describePy(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (v instanceof PyList) return `[${v.items.map(describePy).join(', ')}]`;
  return `(${v.map(describePy).join(', ')}${v.length === 1 ? ',' : ''})`;
}

// ---- writing -----------------------------------------------------------------------------------

/** The .npy preamble + header for `t`: version 1.0, or 2.0 when the header does not fit in 64 KiB. */
/** The magic, version and header of an .npy holding `t.dtype` × `t.shape` (t.data is not looked at). */
export function npyHeader(t: Pick<Tensor, 'dtype' | 'shape'>): Uint8Array {
  const descr = DTYPE_TO_DESCR[t.dtype];
  if (descr === undefined) fail('ERR_DTYPE', 'npy writing', 'a dtype numpy has (bfloat16 has none: convert with toFloat32)', t.dtype);
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyTuple(t.shape)}, }`;
  for (const [major, preamble] of [[1, 10], [2, 12]] as const) {
    const unpadded = preamble + dict.length + 1; // +1 for the final '\n'
    const headerLength = dict.length + 1 + ((ALIGN - (unpadded % ALIGN)) % ALIGN);
    if (major === 1 && headerLength > 0xffff) continue;
    const out = new Uint8Array(preamble + headerLength);
    out.set(MAGIC);
    out[6] = major;
    const view = new DataView(out.buffer);
    if (major === 1) view.setUint16(8, headerLength, true);
    else view.setUint32(8, headerLength, true);
    out.fill(0x20, preamble, out.length - 1);
    out.set(Buffer.from(dict, 'latin1'), preamble);
    out[out.length - 1] = 0x0a;
    return out;
  }
  return fail('ERR_SHAPE', 'npy header', `at most ${0xffffffff} bytes`, 'more');
}

/** The complete .npy file for `t` in one buffer. */
export function encodeNpy(t: Tensor): Uint8Array {
  checkTensor(t);
  return concatBytes([npyHeader(t), tensorBytes(t)]);
}

/** Writes `t` as .npy atomically (temp file in the same directory, then rename), without concatenating in memory. */
export async function writeNpy(path: string, t: Tensor): Promise<void> {
  checkTensor(t, path);
  await writeFileAtomic(path, [npyHeader(t), tensorBytes(t)]);
}
