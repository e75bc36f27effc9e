/**
 * .safetensors files: 8-byte little-endian header length N, N bytes of JSON header, then the data buffer.
 * Spec: https://github.com/huggingface/safetensors#format
 * Validation follows the reference implementation: tensors tile the buffer exactly (no overlap, no gap).
 */
import type { FileHandle } from 'node:fs/promises';
import { fail } from '../errors.js';
import {
  ITEM_SIZE,
  checkTensor,
  concatBytes,
  elementCount,
  readExactly,
  readFileBytes,
  tensorBytes,
  typedView,
  writeFileAtomic,
  type DType,
  type Tensor,
} from './tensor.js';

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 2 ** 20;
const METADATA_KEY = '__metadata__';

const DTYPE_TO_CODE: Readonly<Record<DType, string>> = {
  float16: 'F16',
  bfloat16: 'BF16',
  float32: 'F32',
  float64: 'F64',
  int8: 'I8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
  uint16: 'U16',
  uint32: 'U32',
  uint64: 'U64',
};
// Every code ncod writes, plus BOOL (one 0/1 byte per element), read as uint8. The 8-bit floats (F8_*) are refused.
const CODE_TO_DTYPE: Readonly<Record<string, DType>> = {
  ...Object.fromEntries(Object.entries(DTYPE_TO_CODE).map(([dtype, code]) => [code, dtype as DType])),
  BOOL: 'uint8',
};

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

// ---- reading -----------------------------------------------------------------------------------

/** Reads a .safetensors file; tensors are views on one file buffer where aligned. */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return parseSafetensors(await readFileBytes(path), path);
}

/** Parses a .safetensors file held in memory. Tensors are views on `bytes` when aligned, else copies. */
export function parseSafetensors(bytes: Uint8Array, what = 'safetensors'): Safetensors {
  if (bytes.length < 8) fail('ERR_FILE_FORMAT', what, 'an 8-byte header length', `${bytes.length} bytes`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail('ERR_FILE_FORMAT', what, `a header of at most ${MAX_HEADER_BYTES} bytes`, `${n}`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) fail('ERR_FILE_FORMAT', what, `a header of ${headerLength} bytes`, `a file of ${bytes.length} bytes`);

  const { entries, metadata, dataStart } = parseHeaderBytes(bytes.subarray(8, 8 + headerLength), bytes.length, what);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / ITEM_SIZE[e.dtype];
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedView(e.dtype, bytes, dataStart + e.begin, count) });
  }
  return { tensors, metadata };
}

/** The header's tensors and metadata, checked to tile the `fileSize − 8 − header` data bytes exactly. */
function parseHeaderBytes(headerBytes: Uint8Array, fileSize: number, what: string) {
  const json = parseJsonHeader(headerBytes, what);
  const metadata = parseMetadata(json[METADATA_KEY], what);
  const dataStart = 8 + headerBytes.length;
  const entries = Object.entries(json)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => parseEntry(name, value, what));
  checkTiling(entries, fileSize - dataStart, what);
  return { entries, metadata, dataStart };
}

/** A tensor's place in a .safetensors file, for reading it in parts. */
export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** File offset of the tensor's first byte. */
  offset: number;
}

/** The tensors of an open .safetensors file of `size` bytes, from its header alone (no data is read). */
export async function readSafetensorsHeader(handle: FileHandle, size: number, what: string): Promise<Map<string, SafetensorsEntry>> {
  if (size < 8) fail('ERR_FILE_FORMAT', what, 'an 8-byte header length', `${size} bytes`);
  const prefix = new Uint8Array(8);
  await readExactly(handle, prefix, 0, what);
  const n = new DataView(prefix.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail('ERR_FILE_FORMAT', what, `a header of at most ${MAX_HEADER_BYTES} bytes`, `${n}`);
  if (8 + Number(n) > size) fail('ERR_FILE_FORMAT', what, `a header of ${n} bytes`, `a file of ${size} bytes`);
  const headerBytes = new Uint8Array(Number(n));
  await readExactly(handle, headerBytes, 8, what);
  const { entries, dataStart } = parseHeaderBytes(headerBytes, size, what);
  return new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, offset: dataStart + e.begin }]));
}

function parseJsonHeader(headerBytes: Uint8Array, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    return fail('ERR_FILE_FORMAT', `${what}: header`, 'well-formed UTF-8 JSON', err instanceof Error ? err.message : String(err));
  }
  if (!isPlainObject(json)) fail('ERR_FILE_FORMAT', `${what}: header`, 'a JSON object', json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json);
  return json;
}

function parseMetadata(value: unknown, what: string): Record<string, string> {
  if (value === undefined) return {};
  const where = `${what}: ${METADATA_KEY}`;
  if (!isPlainObject(value)) return fail('ERR_FILE_FORMAT', where, 'an object of strings', typeof value);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail('ERR_FILE_FORMAT', `${where}.${k}`, 'a string', v === null ? 'null' : typeof v);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, what: string): HeaderEntry {
  const where = `${what}: tensor '${name}'`;
  if (!isPlainObject(value)) return fail('ERR_FILE_FORMAT', where, 'an object', value === null ? 'null' : typeof value);
  const keys = Object.keys(value).sort().join(', ');
  if (keys !== 'data_offsets, dtype, shape') fail('ERR_FILE_FORMAT', where, 'exactly the keys data_offsets, dtype, shape', keys);

  const dtype = typeof value.dtype === 'string' ? CODE_TO_DTYPE[value.dtype] : undefined;
  if (dtype === undefined) fail('ERR_FILE_FORMAT', `${where}.dtype`, Object.keys(CODE_TO_DTYPE).join(' | '), JSON.stringify(value.dtype));
  const shape = intArray(value.shape, `${where}.shape`);
  const offsets = intArray(value.data_offsets, `${where}.data_offsets`);
  if (offsets.length !== 2 || offsets[0] > offsets[1]) fail('ERR_FILE_FORMAT', `${where}.data_offsets`, '[begin, end] with begin <= end', JSON.stringify(offsets));

  const [begin, end] = offsets;
  const bytes = elementCount(shape, `${where}.shape`, 'ERR_FILE_FORMAT') * ITEM_SIZE[dtype];
  if (end - begin !== bytes) {
    fail('ERR_FILE_FORMAT', `${where}.data_offsets`, `${bytes} bytes for shape [${shape.join(', ')}] of ${dtype}`, `${end - begin}`);
  }
  return { name, dtype, shape, begin, end };
}

/** Sorted by offset, tensors must cover [0, bufferLength) exactly: each starts where the previous ended. */
function checkTiling(entries: HeaderEntry[], bufferLength: number, what: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) {
      const problem = e.begin < pos ? 'overlaps the previous tensor' : 'leaves a gap';
      fail('ERR_FILE_FORMAT', `${what}: tensor '${e.name}'`, `data starting at byte ${pos}`, `${e.begin} (${problem})`);
    }
    pos = e.end;
  }
  if (pos !== bufferLength) {
    fail('ERR_FILE_FORMAT', what, `a data buffer of ${pos} bytes`, `${bufferLength} (${bufferLength < pos ? 'truncated' : 'trailing data'})`);
  }
}

function intArray(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    return fail('ERR_FILE_FORMAT', where, 'an array of non-negative integers', JSON.stringify(value) ?? typeof value);
  }
  return value as number[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- writing -----------------------------------------------------------------------------------

/** Header + tensor bytes, in file order. Larger elements go first so every tensor offset is aligned to its size. */
function layout(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): Uint8Array[] {
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') fail('ERR_INVALID_ARGUMENT', `metadata.${k}`, 'a string', typeof v);
  }
  const order = [...tensors.entries()].sort(([, a], [, b]) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype]);
  // Null prototype: a tensor named "__proto__" must stay an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, t] of order) {
    if (name === METADATA_KEY) fail('ERR_INVALID_ARGUMENT', 'tensor name', `anything but ${METADATA_KEY}`, name);
    checkTensor(t, `tensor '${name}'`);
    const end = offset + t.data.byteLength;
    header[name] = { dtype: DTYPE_TO_CODE[t.dtype], shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  // Pad with spaces to a multiple of 8 so the data buffer starts 8-aligned.
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(padded.length), true);
  return [length, padded, ...order.map(([, t]) => tensorBytes(t))];
}

/** The complete .safetensors file in one buffer. */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  return concatBytes(layout(tensors, metadata));
}

/** Writes a .safetensors file atomically (temp file in the same directory, then rename). */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, layout(tensors, metadata));
}
