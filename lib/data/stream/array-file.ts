/**
 * The arrays of one file, described from its headers alone (no data read), each openable as a RowReader any
 * number of times: .npy, .npz (stored and deflated members, zip64), .safetensors. `.pt` files are read whole
 * (torch's pickled storages have no row layout to stream) and served from memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fail } from '../../errors.js';
import { EOCD_SIZE, LOCAL_SIZE, MAX_DEFLATE_RATIO, SIG_LOCAL, Zip, checkNoOverlap, crc32, extract, readCentralDirectory, locateCentralDirectory, type Entry } from '../npz.js';
import { parseNpy, readNpyHeader, type NpyHeader } from '../npy.js';
import { readPt } from '../pt.js';
import { readSafetensorsHeader } from '../safetensors.js';
import { readExactly, type Tensor } from '../tensor.js';
import type { ArrayFormat } from '../read-array.js';
import { ContiguousRows, FortranRows, InflatedRows, TensorRows, rowLayout, type RowLayout, type RowReader } from './rows.js';

/** One array of one file: its layout, and a way to read its rows from the start. */
export interface ArrayFile extends RowLayout {
  path: string;
  /** Names the array in error messages. */
  what: string;
  open(): Promise<RowReader>;
}

/** Every array of the file, by name ('' for a .npy), described without reading any data. */
export async function describeFile(path: string, format: ArrayFormat, what: string): Promise<Map<string, ArrayFile>> {
  switch (format) {
    case 'npy':
      return new Map([['', await describeNpy(path, what)]]);
    case 'safetensors':
      return describeSafetensors(path, what);
    case 'npz':
      return describeNpz(path, what);
    case 'pt':
      return describeTensors(path, await readPt(path), what);
  }
}

async function withHandle<T>(path: string, use: (handle: FileHandle, size: number) => Promise<T>): Promise<T> {
  const handle = await open(path, 'r');
  try {
    return await use(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

/** Opens `path` for a reader that takes over the handle (and closes it); the handle is closed if making it fails. */
async function readerOn(path: string, make: (handle: FileHandle, size: number) => Promise<RowReader>): Promise<RowReader> {
  const handle = await open(path, 'r');
  try {
    return await make(handle, (await handle.stat()).size);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** A reader over an .npy header's data at `dataOffset`: row by row, or gathered from columns for Fortran order. */
function npyReader(handle: FileHandle, header: NpyHeader, dataOffset: number, what: string, crc?: { crc: number; crcOfPrefix: number }): RowReader {
  const layout = rowLayout(header.dtype, header.shape);
  // With at most one dimension longer than 1, Fortran and C order are the same bytes.
  if (header.fortranOrder && header.shape.filter((d) => d > 1).length > 1) {
    return new FortranRows(handle, dataOffset, layout, what, header.bigEndian);
  }
  return new ContiguousRows(handle, dataOffset, layout, what, { bigEndian: header.bigEndian, ...crc });
}

async function describeNpy(path: string, what: string): Promise<ArrayFile> {
  const { header } = await withHandle(path, (handle, size) => readNpyHeader(handle, 0, size, what));
  return {
    ...rowLayout(header.dtype, header.shape),
    path,
    what,
    open: () =>
      readerOn(path, async (handle, size) => {
        // Read again: the file may have changed since it was described, and the reader must match what is there now.
        const now = await readNpyHeader(handle, 0, size, what);
        checkUnchanged(header, now.header, what);
        return npyReader(handle, now.header, now.dataOffset, what);
      }),
  };
}

function checkUnchanged(before: { dtype: string; shape: number[] }, now: { dtype: string; shape: number[] }, what: string): void {
  if (before.dtype !== now.dtype || before.shape.join() !== now.shape.join()) {
    fail('ERR_FILE_FORMAT', what, `the ${before.dtype} [${before.shape.join(', ')}] array seen when opened`, `${now.dtype} [${now.shape.join(', ')}] (the file changed)`);
  }
}

async function describeSafetensors(path: string, what: string): Promise<Map<string, ArrayFile>> {
  const entries = await withHandle(path, (handle, size) => readSafetensorsHeader(handle, size, what));
  const out = new Map<string, ArrayFile>();
  for (const [name, entry] of entries) {
    const layout = rowLayout(entry.dtype, entry.shape);
    const memberWhat = `${what}:${name}`;
    out.set(name, {
      ...layout,
      path,
      what: memberWhat,
      open: () =>
        readerOn(path, async (handle, size) => {
          const now = (await readSafetensorsHeader(handle, size, what)).get(name);
          if (!now || now.offset !== entry.offset) fail('ERR_FILE_FORMAT', memberWhat, 'the tensor seen when opened', 'another (the file changed)');
          checkUnchanged(entry, now, memberWhat);
          return new ContiguousRows(handle, entry.offset, layout, memberWhat);
        }),
    });
  }
  return out;
}

// The end-of-central-directory record, its longest comment, and the zip64 records before it.
const TAIL_BYTES = EOCD_SIZE + 0xffff + 20 + 56;
// A central directory larger than this is not an .npz (numpy writes ~100 bytes per array).
const MAX_DIRECTORY_BYTES = 64 * 2 ** 20;

/** The zip directory from the file's tail (never the whole file), each member's local header read on its own. */
async function readNpzDirectory(handle: FileHandle, size: number, what: string): Promise<Entry[]> {
  const readZip = async (base: number) => {
    const bytes = new Uint8Array(size - base);
    await readExactly(handle, bytes, base, what);
    return new Zip(bytes, what, base);
  };
  let zip = await readZip(Math.max(0, size - TAIL_BYTES));
  // The end records lie in the tail; the central directory may start before it (an archive of many arrays).
  const { cdOffset } = locateCentralDirectory(zip);
  if (!zip.holds(cdOffset)) {
    if (size - cdOffset > MAX_DIRECTORY_BYTES) fail('ERR_FILE_FORMAT', what, `a zip directory of at most ${MAX_DIRECTORY_BYTES} bytes`, `${size - cdOffset}`);
    zip = await readZip(cdOffset);
  }
  const entries = readCentralDirectory(zip);
  for (const entry of entries) {
    const local = new Uint8Array(LOCAL_SIZE);
    await readExactly(handle, local, entry.localOffset, what);
    const view = new DataView(local.buffer);
    if (view.getUint32(0, true) !== SIG_LOCAL) fail('ERR_FILE_FORMAT', what, `a local file header signature at offset ${entry.localOffset}`, 'other bytes');
    entry.dataStart = entry.localOffset + LOCAL_SIZE + view.getUint16(26, true) + view.getUint16(28, true);
  }
  checkNoOverlap(entries, what);
  return entries;
}

async function describeNpz(path: string, what: string): Promise<Map<string, ArrayFile>> {
  const members = await withHandle(path, async (handle, size) => {
    const entries = await readNpzDirectory(handle, size, what);
    const out: { name: string; entry: Entry; header?: NpyHeader; dataOffset?: number }[] = [];
    for (const entry of entries) {
      const memberWhat = `${what}: member '${entry.name}'`;
      if (!entry.name.endsWith('.npy')) fail('ERR_FILE_FORMAT', memberWhat, 'a name ending in .npy', `'${entry.name}'`);
      if (entry.flags & 1) fail('ERR_FILE_FORMAT', memberWhat, 'an unencrypted member', 'an encrypted one');
      if (entry.dataStart + entry.compressedSize > size) fail('ERR_FILE_FORMAT', memberWhat, `${entry.compressedSize} bytes at offset ${entry.dataStart}`, `a ${size}-byte file`);
      if (entry.method === 0) {
        if (entry.compressedSize !== entry.size) fail('ERR_FILE_FORMAT', memberWhat, `stored size ${entry.size}`, `${entry.compressedSize}`);
        const { header, dataOffset } = await readNpyHeader(handle, entry.dataStart, entry.size, memberWhat);
        out.push({ name: entry.name.slice(0, -4), entry, header, dataOffset });
      } else if (entry.method === 8) {
        if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
          fail('ERR_FILE_FORMAT', memberWhat, `at most ${MAX_DEFLATE_RATIO}x expansion of ${entry.compressedSize} compressed bytes`, `${entry.size} declared`);
        }
        out.push({ name: entry.name.slice(0, -4), entry });
      } else {
        fail('ERR_FILE_FORMAT', memberWhat, 'compression method 0 (stored) or 8 (deflate)', String(entry.method));
      }
    }
    return out;
  });
  const files = new Map<string, ArrayFile>();
  for (const member of members) {
    const memberWhat = `${what}: member '${member.entry.name}'`;
    if (files.has(member.name)) fail('ERR_FILE_FORMAT', memberWhat, 'unique member names', 'a duplicate');
    files.set(member.name, member.header ? storedMember(path, member.entry, member.header, memberWhat) : await deflatedMember(path, member.entry, memberWhat));
  }
  return files;
}

function storedMember(path: string, entry: Entry, header: NpyHeader, what: string): ArrayFile {
  return {
    ...rowLayout(header.dtype, header.shape),
    path,
    what,
    open: () =>
      readerOn(path, async (handle) => {
        const now = await readNpyHeader(handle, entry.dataStart, entry.size, what);
        checkUnchanged(header, now.header, what);
        // The member's CRC-32 covers its .npy header too.
        const headerBytes = new Uint8Array(now.dataOffset - entry.dataStart);
        await readExactly(handle, headerBytes, entry.dataStart, what);
        return npyReader(handle, now.header, now.dataOffset, what, { crc: entry.crc, crcOfPrefix: crc32(headerBytes) });
      }),
  };
}

/** A deflated member: its header is inflated once to describe it; each open inflates it from the start. */
async function deflatedMember(path: string, entry: Entry, what: string): Promise<ArrayFile> {
  const member = { path, dataStart: entry.dataStart, compressedSize: entry.compressedSize, size: entry.size, crc: entry.crc };
  const first = await InflatedRows.open(member, what);
  if (first.fortranOrder) {
    // Deflate gives bytes in order only, so a column-major member cannot be gathered by rows: read it whole.
    const tensor = await withHandle(path, async (handle) => {
      const compressed = new Uint8Array(entry.compressedSize);
      await readExactly(handle, compressed, entry.dataStart, what);
      return parseNpy(extract(compressed, { ...entry, dataStart: 0 }, what), what);
    });
    return { ...rowLayout(tensor.dtype, tensor.shape), path, what, open: async () => new TensorRows(tensor) };
  }
  const layout: RowLayout = { dtype: first.reader.dtype, shape: first.reader.shape, rows: first.reader.rows, rowElements: first.reader.rowElements };
  await first.reader.close();
  return {
    ...layout,
    path,
    what,
    open: async () => {
      const opened = await InflatedRows.open(member, what);
      if (opened.fortranOrder) fail('ERR_FILE_FORMAT', what, 'the C-order member seen when opened', 'Fortran order (the file changed)');
      checkUnchanged(layout, opened.reader, what);
      return opened.reader;
    },
  };
}

function describeTensors(path: string, tensors: Map<string, Tensor>, what: string): Map<string, ArrayFile> {
  const out = new Map<string, ArrayFile>();
  for (const [name, tensor] of tensors) {
    out.set(name, { ...rowLayout(tensor.dtype, tensor.shape), path, what: `${what}:${name}`, open: async () => new TensorRows(tensor) });
  }
  return out;
}
