// Inputs larger than one typed array holds are refused up front with ERR_TOO_LARGE, and failed allocations are
// ERR_OUT_OF_MEMORY, never a bare RangeError (which the CLI would report as ERR_INTERNAL). The huge files are
// sparse (a header, then truncateSync past the end): they cost no disk, and nothing of their size is allocated.
import { randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { parseIdx, readIdx, readNpy, readNpz, readSafetensors } from '../../lib/data/index.js';
import { MAX_ARRAY_LENGTH, allocateBytes, checkArrayLength } from '../../lib/data/tensor.js';
import { tmpDir } from './fixtures.js';

const L = MAX_ARRAY_LENGTH;
const LIMIT_TEXT = `expected at most ${L} elements in one array (the typed-array limit; the streaming commands have none)`;
// From Node 22 the limit is 2^53 − 1: no file system holds a sparse file that large, so the file cases cannot run.
const SPARSE = L <= 2 ** 40;

/** Writes `head` and extends the file, sparsely, to `size` bytes. */
function sparseFile(name: string, head: Uint8Array, size: number): string {
  const path = join(tmpDir(), name);
  writeFileSync(path, head);
  truncateSync(path, size);
  return path;
}

/** A version 1.0 .npy header, padded like numpy's. */
function npyHeader(descr: string, shape: string): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const length = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(length, 0x20);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  header.writeUInt16LE(length - 10, 8);
  header.write(dict, 10, 'latin1');
  header[length - 1] = 0x0a;
  return header;
}

describe('the limit', () => {
  it('is the typed-array limit: one element more is refused by V8 itself, so checking against it loses nothing', () => {
    expect(L).toBeGreaterThanOrEqual(2 ** 32);
    expect(() => new Float32Array(L + 1)).toThrow(/Invalid typed array length/);
    expect(() => checkArrayLength(L, 'x')).not.toThrow();
    expect(() => checkArrayLength(L + 1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE', message: `x: ${LIMIT_TEXT}, got ${L + 1}` }));
  });

  it('a failed allocation is ERR_OUT_OF_MEMORY with the size asked for', () => {
    // 2^53 − 1 bytes (8 PiB) fits no machine's address space, so the allocation fails everywhere.
    expect(() => allocateBytes(Number.MAX_SAFE_INTEGER, 'x.npy')).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_MEMORY', message: `x.npy: expected ${Number.MAX_SAFE_INTEGER} bytes of free memory, got an allocation failure` }),
    );
  });
});

describe.skipIf(!SPARSE)(`sparse files past the limit (skipped where the limit, ${L}, exceeds 2^40)`, () => {
  it('npy: more elements than one typed array holds, whatever the dtype', async () => {
    const bytes = npyHeader('|u1', `(${L + 1},)`);
    const u8 = sparseFile('u8.npy', bytes, bytes.length + L + 1);
    await expect(readNpy(u8)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE', message: `${u8}: ${LIMIT_TEXT}, got ${L + 1}` });
    const rows = L / 4096 + 1;
    const f32Header = npyHeader('<f4', `(${rows}, 4096)`);
    const f32 = sparseFile('f32.npy', f32Header, f32Header.length + 4 * rows * 4096);
    await expect(readNpy(f32)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE', message: `${f32}: ${LIMIT_TEXT}, got ${rows * 4096}` });
  });

  it('npy: the file is still checked for consistency first (a huge claim in a small file is ERR_FILE_FORMAT)', async () => {
    const bytes = npyHeader('|u1', `(${L + 1},)`);
    const small = sparseFile('small.npy', bytes, bytes.length + 16);
    await expect(readNpy(small)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringContaining('truncated') });
  });

  it('npz, safetensors and idx, which hold the whole file in one array: a file of more bytes than that', async () => {
    const expected = (path: string) => ({ code: 'ERR_TOO_LARGE', message: `${path} (read whole): expected at most ${L} bytes in one array (the typed-array limit; the streaming commands have none), got ${L + 1}` });
    const npz = sparseFile('big.npz', Uint8Array.from([0x50, 0x4b, 0x03, 0x04]), L + 1);
    await expect(readNpz(npz)).rejects.toMatchObject(expected(npz));
    const st = sparseFile('big.safetensors', new Uint8Array(8), L + 1);
    await expect(readSafetensors(st)).rejects.toMatchObject(expected(st));
    const idx = sparseFile('big.idx', Uint8Array.from([0, 0, 8, 1]), L + 1);
    await expect(readIdx(idx)).rejects.toMatchObject(expected(idx));
  });
});

describe.skipIf(!SPARSE)(`gzipped idx past the limit (skipped where the limit, ${L}, exceeds 2^40)`, () => {
  it('an honest header claim (within deflate ratio of the gzip size) past the limit, before inflating', () => {
    const dims = [L / 65536 + 1, 65536]; // each dim fits IDX's uint32
    const header = Buffer.alloc(12);
    header.set([0, 0, 8, 2]);
    header.writeUInt32BE(dims[0], 4);
    header.writeUInt32BE(dims[1], 8);
    // Random bytes do not compress: 4.2 MB of gzip can honestly hold the claimed 2^32 + 65536 bytes (deflate ≤ 1032:1).
    const gz = gzipSync(Buffer.concat([header, randomBytes(4_200_000)]), { level: 1 });
    const total = 12 + dims[0] * dims[1];
    expect(() => parseIdx(gz, 'x.gz')).toThrow(
      expect.objectContaining({ code: 'ERR_TOO_LARGE', message: `x.gz (decompressed): expected at most ${L} bytes in one array (the typed-array limit; the streaming commands have none), got ${total}` }),
    );
  });
});
