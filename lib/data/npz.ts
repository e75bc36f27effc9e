/**
 * NumPy .npz archives (numpy.savez / numpy.savez_compressed): a zip of .npy members, stored or deflated.
 *
 * The zip directory is parsed here rather than with fflate's unzipSync because unzipSync trusts the declared
 * sizes (it allocates them up front, silently truncates a member that inflates past them, and never checks CRCs).
 * fflate is still used for the inflate itself.
 */
import * as zlib from 'node:zlib';
import { Inflate } from 'fflate';
import { fail } from '../errors.js';
import { parseNpy } from './npy.js';
import { allocateBytes, checkArrayLength, readFileBytes, type Tensor } from './tensor.js';

export interface NpzOptions {
  /** Upper bound on the total uncompressed size of all members, in bytes (ERR_TOO_LARGE past it). Default 16 GiB. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 16 * 2 ** 30;
// Deflate cannot expand more than ~1032:1, so a declared size beyond that is a lie (a zip bomb or corruption).
export const MAX_DEFLATE_RATIO = 1032;

export const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
export const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
export const LOCAL_SIZE = 30;

export interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Where the member's (compressed) bytes start, after its local header. */
  dataStart: number;
}

/** Reads an .npz file into a map from array name (member name without ".npy") to tensor. */
export async function readNpz(path: string, options: NpzOptions = {}): Promise<Map<string, Tensor>> {
  return parseNpz(await readFileBytes(path), options, path);
}

/** Parses an .npz archive held in memory. */
export function parseNpz(bytes: Uint8Array, options: NpzOptions = {}, what = 'npz'): Map<string, Tensor> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const entries = readDirectory(new Zip(bytes, what));
  const total = entries.reduce((n, e) => n + e.size, 0);
  // An honest archive over the caller's limit is too large, not damaged.
  if (total > maxBytes) fail('ERR_TOO_LARGE', what, `at most ${maxBytes} uncompressed bytes (NpzOptions.maxBytes)`, `${total} declared`);

  const out = new Map<string, Tensor>();
  for (const entry of entries) {
    const memberWhat = `${what}: member '${entry.name}'`;
    if (!entry.name.endsWith('.npy')) fail('ERR_FILE_FORMAT', memberWhat, 'a name ending in .npy', `'${entry.name}'`);
    const name = entry.name.slice(0, -'.npy'.length);
    if (out.has(name)) fail('ERR_FILE_FORMAT', memberWhat, 'unique member names', 'a duplicate');
    out.set(name, parseNpy(extract(bytes, entry, memberWhat), memberWhat));
  }
  return out;
}

/**
 * Bounds-checked little-endian reads at file offsets: any read past the end is a format error. `bytes` holds the
 * file from offset `base` to its end (the whole file, or only its tail when streaming).
 */
export class Zip {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The file's size. */
  get end(): number {
    return this.base + this.bytes.length;
  }

  private at(offset: number, n: number): number {
    if (!(offset >= this.base && offset + n <= this.end)) {
      fail('ERR_FILE_FORMAT', this.what, `${n} bytes at offset ${offset}`, `a ${this.end}-byte file (truncated or corrupt zip)`);
    }
    return offset - this.base;
  }

  /** Whether `offset` lies in the bytes held (a streaming reader then reads further back). */
  holds(offset: number): boolean {
    return offset >= this.base;
  }

  u16(offset: number): number {
    return this.view.getUint16(this.at(offset, 2), true);
  }

  u32(offset: number): number {
    return this.view.getUint32(this.at(offset, 4), true);
  }

  u64(offset: number): number {
    const v = this.view.getBigUint64(this.at(offset, 8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('ERR_FILE_FORMAT', this.what, 'a zip64 field below 2^53', String(v));
    return Number(v);
  }

  slice(offset: number, n: number): Uint8Array {
    const i = this.at(offset, n);
    return this.bytes.subarray(i, i + n);
  }

  signature(offset: number, sig: number, name: string): void {
    if (this.u32(offset) !== sig) fail('ERR_FILE_FORMAT', this.what, `a ${name} signature at offset ${offset}`, 'other bytes');
  }
}

/** Finds the end-of-central-directory record (the last one whose comment runs exactly to the end of the file). */
function findEocd(zip: Zip): number {
  const len = zip.end;
  const lowest = Math.max(zip.base, len - EOCD_SIZE - 0xffff);
  for (let e = len - EOCD_SIZE; e >= lowest; e--) {
    if (zip.u32(e) === SIG_EOCD && e + EOCD_SIZE + zip.u16(e + 20) === len) return e;
  }
  return fail('ERR_FILE_FORMAT', zip.what, 'a zip end-of-central-directory record', len < EOCD_SIZE ? `${len} bytes` : 'none (not a zip, or truncated)');
}

export function readDirectory(zip: Zip): Entry[] {
  const entries = readCentralDirectory(zip);
  for (const entry of entries) {
    zip.signature(entry.localOffset, SIG_LOCAL, 'local file header');
    entry.dataStart = entry.localOffset + LOCAL_SIZE + zip.u16(entry.localOffset + 26) + zip.u16(entry.localOffset + 28);
  }
  checkNoOverlap(entries, zip.what);
  return entries;
}

/** Where the central directory lies, from the end-of-central-directory records (zip64 aware). */
export function locateCentralDirectory(zip: Zip): { count: number; cdOffset: number; cdSize: number; cdEnd: number } {
  const eocd = findEocd(zip);
  let count = zip.u16(eocd + 10);
  let cdSize = zip.u32(eocd + 12);
  let cdOffset = zip.u32(eocd + 16);
  let cdEnd = eocd;
  if (zip.u16(eocd + 4) !== 0 || zip.u16(eocd + 6) !== 0) fail('ERR_FILE_FORMAT', zip.what, 'a single-disk zip', 'a multi-disk zip');

  if (eocd >= 20 && zip.u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
    const z = zip.u64(eocd - 12);
    zip.signature(z, SIG_ZIP64_EOCD, 'zip64 end-of-central-directory');
    count = zip.u64(z + 32);
    cdSize = zip.u64(z + 40);
    cdOffset = zip.u64(z + 48);
    cdEnd = z;
  }
  if (cdOffset + cdSize > cdEnd || count * CENTRAL_SIZE > cdSize) {
    fail('ERR_FILE_FORMAT', zip.what, `a central directory of ${count} entries before offset ${cdEnd}`, `${cdSize} bytes at offset ${cdOffset}`);
  }
  return { count, cdOffset, cdSize, cdEnd };
}

/** The central directory's entries, their dataStart still 0 (the local headers are read separately). */
export function readCentralDirectory(zip: Zip): Entry[] {
  const { count, cdOffset, cdSize } = locateCentralDirectory(zip);
  const entries: Entry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const { entry, next } = readCentralEntry(zip, p);
    if (next > cdOffset + cdSize) fail('ERR_FILE_FORMAT', zip.what, `central directory within ${cdSize} bytes`, 'an entry past its end');
    if (entry.localOffset + LOCAL_SIZE > cdOffset) fail('ERR_FILE_FORMAT', zip.what, 'member data before the central directory', `offset ${entry.localOffset}`);
    entries.push(entry);
    p = next;
  }
  return entries;
}

/** Members sharing bytes would let a small file declare the same huge member many times (an overlapping zip bomb). */
export function checkNoOverlap(entries: Entry[], what: string): void {
  const sorted = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].localOffset < prev.dataStart + prev.compressedSize) {
      fail('ERR_FILE_FORMAT', what, 'members that do not overlap', `'${sorted[i].name}' overlapping '${prev.name}'`);
    }
  }
}

function readCentralEntry(zip: Zip, p: number): { entry: Entry; next: number } {
  zip.signature(p, SIG_CENTRAL, 'central directory');
  const nameLength = zip.u16(p + 28);
  const extraLength = zip.u16(p + 30);
  const commentLength = zip.u16(p + 32);
  const entry: Entry = {
    name: new TextDecoder().decode(zip.slice(p + CENTRAL_SIZE, nameLength)),
    flags: zip.u16(p + 8),
    method: zip.u16(p + 10),
    crc: zip.u32(p + 16),
    compressedSize: zip.u32(p + 20),
    size: zip.u32(p + 24),
    localOffset: zip.u32(p + 42),
    dataStart: 0, // set once the local header is read
  };
  applyZip64Extra(zip, entry, p + CENTRAL_SIZE + nameLength, extraLength);
  return { entry, next: p + CENTRAL_SIZE + nameLength + extraLength + commentLength };
}

/** Fields saturated at 0xFFFFFFFF are stored, in this order, in the zip64 extra field (id 1). */
function applyZip64Extra(zip: Zip, entry: Entry, start: number, length: number): void {
  const fields = (['size', 'compressedSize', 'localOffset'] as const).filter((k) => entry[k] === 0xffffffff);
  if (fields.length === 0) return;
  for (let q = start; q + 4 <= start + length; q += 4 + zip.u16(q + 2)) {
    if (zip.u16(q) !== 1) continue;
    if (zip.u16(q + 2) < 8 * fields.length) break;
    fields.forEach((k, i) => (entry[k] = zip.u64(q + 4 + 8 * i)));
    return;
  }
  fail('ERR_FILE_FORMAT', `${zip.what}: member '${entry.name}'`, 'a zip64 extra field with its sizes', 'none');
}

/** Uncompressed member bytes; sizes, ratio and CRC are all checked. */
export function extract(bytes: Uint8Array, entry: Entry, what: string): Uint8Array {
  if (entry.flags & 1) fail('ERR_FILE_FORMAT', what, 'an unencrypted member', 'an encrypted one');
  const compressed = new Zip(bytes, what).slice(entry.dataStart, entry.compressedSize);

  let data: Uint8Array;
  let crc: number;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) fail('ERR_FILE_FORMAT', what, `stored size ${entry.size}`, `${entry.compressedSize}`);
    data = compressed;
    crc = crc32(data);
  } else if (entry.method === 8) {
    ({ data, crc } = inflate(compressed, entry, what));
  } else {
    return fail('ERR_FILE_FORMAT', what, 'compression method 0 (stored) or 8 (deflate)', String(entry.method));
  }
  if (crc !== entry.crc) fail('ERR_FILE_FORMAT', what, `CRC-32 ${hex(entry.crc)}`, hex(crc));
  return data;
}

// Compressed bytes handed to the inflater at a time, and the inflated prefix that must hold the .npy header.
const INFLATE_STEP = 1 << 16;
const HEADER_STEP = 1 << 10;
const NPY_PREFIX = 1 << 16;

/**
 * The size an .npy member's own header implies (header + shape × item size), read from its first inflated bytes;
 * undefined when the prefix is not an .npy header this check understands (parseNpy then judges the whole member).
 */
function npyImpliedSize(prefix: Uint8Array): number | undefined {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (prefix.length < 10 || magic.some((b, i) => prefix[i] !== b)) return undefined;
  const major = prefix[6];
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (major !== 1 && prefix.length < 12) return undefined;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > prefix.length) return undefined;
  const header = new TextDecoder('latin1').decode(prefix.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'[<>|=]?[a-zA-Z](\d+)'/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) return undefined;
  let elements = 1;
  for (const part of shape[1].split(',')) {
    const t = part.trim();
    if (t === '') continue;
    if (!/^\d+$/.test(t)) return undefined;
    elements *= Number(t);
  }
  return headerStart + headerLength + elements * Number(descr[1]);
}

/**
 * Inflates a member in steps: the first bytes must hold an .npy header whose size agrees with the declared size before
 * the output is allocated; output past the declared size stops the inflate at once; the CRC is computed as bytes arrive.
 */
function inflate(compressed: Uint8Array, entry: Entry, what: string): { data: Uint8Array; crc: number } {
  if (entry.size > compressed.length * MAX_DEFLATE_RATIO + 1024) {
    fail('ERR_FILE_FORMAT', what, `at most ${MAX_DEFLATE_RATIO}x expansion of ${compressed.length} compressed bytes`, `${entry.size} declared`);
  }
  // A member is inflated into one Uint8Array, so it cannot be larger than one typed array holds.
  checkArrayLength(entry.size, what, 'bytes');
  const prefixLimit = Math.min(entry.size, NPY_PREFIX);
  const pending: Uint8Array[] = [];
  let pendingLength = 0;
  let target: Uint8Array | undefined;
  let written = 0;
  let crc = 0;
  const allocate = () => {
    const prefix = concat(pending, pendingLength);
    const implied = npyImpliedSize(prefix);
    if (implied !== undefined && implied !== entry.size) {
      fail('ERR_FILE_FORMAT', what, `${entry.size} bytes after inflating (the declared size)`, `an .npy header implying ${implied}`);
    }
    target = new Uint8Array(allocateBytes(entry.size, what));
    target.set(prefix);
    written = prefix.length;
    crc = crc32(prefix, crc);
    pending.length = 0;
    pendingLength = 0;
  };
  const inflater = new Inflate((chunk: Uint8Array) => {
    if (written + pendingLength + chunk.length > entry.size) {
      fail('ERR_FILE_FORMAT', what, `${entry.size} bytes after inflating (the declared size)`, 'more');
    }
    if (!target) {
      pending.push(chunk.slice());
      pendingLength += chunk.length;
      if (pendingLength >= prefixLimit) allocate();
      return;
    }
    target.set(chunk, written);
    written += chunk.length;
    crc = crc32(chunk, crc);
  });
  try {
    // Small steps until the header is checked (1 KiB of deflate is at most ~1 MiB of output), then larger ones.
    for (let p = 0; p < compressed.length; ) {
      const end = Math.min(compressed.length, p + (target ? INFLATE_STEP : HEADER_STEP));
      inflater.push(compressed.subarray(p, end), end === compressed.length);
      p = end;
    }
    if (compressed.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof Error && (err as { code?: unknown }).code === 'ERR_FILE_FORMAT') throw err;
    return fail('ERR_FILE_FORMAT', what, 'valid deflate data', err instanceof Error ? err.message : String(err));
  }
  if (!target) allocate();
  if (written !== entry.size) fail('ERR_FILE_FORMAT', what, `${entry.size} bytes after inflating`, `${written}`);
  return { data: target!, crc };
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// ---- CRC-32 (zip polynomial); zlib.crc32 exists from Node 20.15, the table is the fallback --------

let crcTable: Uint32Array | undefined;

/** CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it). */
export function crc32(data: Uint8Array, previous = 0): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data, previous) >>> 0;
  crcTable ??= makeCrcTable();
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}
