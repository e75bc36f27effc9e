import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../lib/data/npy.js';
import { parseNpz, readNpz } from '../../lib/data/npz.js';
import { ALL_DTYPES, SHAPES, expectFormatError, indexOf, python, sample, shapeName, tmpDir } from './fixtures.js';

const dir = tmpDir();
const CENTRAL = [0x50, 0x4b, 0x01, 0x02];
const LOCAL = [0x50, 0x4b, 0x03, 0x04];

// numpy fixtures, written once for the whole file.
python(
  `
out = sys.argv[1]
arrays = {f'{dtype}_{shape_name(shape)}': sample(dtype, tuple(shape)) for dtype in NP_DTYPES for shape in ${JSON.stringify(SHAPES)}}
np.savez(os.path.join(out, 'stored.npz'), **arrays)
np.savez_compressed(os.path.join(out, 'deflated.npz'), **arrays)
np.savez(os.path.join(out, 'positional.npz'), sample('float32', (7, 13)), sample('uint8', (5,)))
np.savez_compressed(os.path.join(out, 'zeros.npz'), z=np.zeros(4_000_000, np.float32))
import zipfile
with zipfile.ZipFile(os.path.join(out, 'bzip2.npz'), 'w', zipfile.ZIP_BZIP2) as z:
    z.writestr('a.npy', open(os.path.join(out, 'stored.npz'), 'rb').read()[:10])
with zipfile.ZipFile(os.path.join(out, 'txt.npz'), 'w') as z:
    z.writestr('notes.txt', 'hello')
# Tiny limits force zip64 extra fields and the zip64 end records without writing 4 GiB.
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 100, 1
np.savez_compressed(os.path.join(out, 'zip64.npz'), a=sample('float64', (7, 13)), b=sample('int32', (50,)))
`,
  dir,
);
// Plain Uint8Array copies: Buffer#slice would be a view, and patches must not leak between tests.
const stored = new Uint8Array(readFileSync(join(dir, 'stored.npz')));
const deflated = new Uint8Array(readFileSync(join(dir, 'deflated.npz')));

function expectedArrays(): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const dtype of ALL_DTYPES) for (const shape of SHAPES) m.set(`${dtype}_${shapeName(shape)}`, sample(dtype, shape));
  return m;
}

/** Offset of the i-th central directory entry. */
function centralEntry(bytes: Uint8Array, i = 0): number {
  let p = -1;
  for (let k = 0; k <= i; k++) p = indexOf(bytes, CENTRAL, p + 1);
  return p;
}

function patched(bytes: Uint8Array, edit: (copy: Uint8Array, view: DataView) => void): Uint8Array {
  const copy = new Uint8Array(bytes);
  edit(copy, new DataView(copy.buffer));
  return copy;
}

async function expectBadNpz(bytes: Uint8Array, name: string): Promise<string> {
  const message = expectFormatError(() => parseNpz(bytes));
  const path = join(dir, `bad-${name}.npz`);
  writeFileSync(path, bytes);
  await expect(readNpz(path)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  return message;
}

describe('npz from numpy', () => {
  it('reads np.savez (stored members)', async () => {
    expect(await readNpz(join(dir, 'stored.npz'))).toEqual(expectedArrays());
  });

  it('reads np.savez_compressed (deflated members)', async () => {
    expect(await readNpz(join(dir, 'deflated.npz'))).toEqual(expectedArrays());
  });

  it('names positional arrays arr_0, arr_1', async () => {
    const m = await readNpz(join(dir, 'positional.npz'));
    expect([...m.keys()]).toEqual(['arr_0', 'arr_1']);
    expect(m.get('arr_0')).toEqual(sample('float32', [7, 13]));
    expect(m.get('arr_1')).toEqual(sample('uint8', [5]));
  });

  it('reads highly compressed (~1000:1) members', async () => {
    const z = (await readNpz(join(dir, 'zeros.npz'))).get('z');
    expect(z?.shape).toEqual([4_000_000]);
    expect((z?.data as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it('reads zip64 extra fields and end records', async () => {
    const m = await readNpz(join(dir, 'zip64.npz'));
    expect(m.get('a')).toEqual(sample('float64', [7, 13]));
    expect(m.get('b')).toEqual(sample('int32', [50]));
  });

  it('reads zips made by other writers (fflate, mixed methods)', () => {
    const zip = zipSync({ 'a.npy': [encodeNpy(sample('int64', [3])), { level: 0 }], 'b.npy': [encodeNpy(sample('float64', [2, 2])), { level: 9 }] });
    const m = parseNpz(zip);
    expect(m.get('a')).toEqual(sample('int64', [3]));
    expect(m.get('b')).toEqual(sample('float64', [2, 2]));
  });
});

describe('npz hostile files', () => {
  it('rejects garbage and empty input', async () => {
    await expectBadNpz(Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251), 'garbage');
    await expectBadNpz(new Uint8Array(0), 'empty');
  });

  it('rejects truncation at several points', async () => {
    for (const bytes of [stored, deflated]) {
      for (const at of [10, 100, 1000, Math.floor(bytes.length / 2), centralEntry(bytes) + 20, bytes.length - 10, bytes.length - 1]) {
        await expectBadNpz(bytes.subarray(0, at), `trunc-${at}`);
      }
    }
  });

  it('rejects a declared size larger than the real data', async () => {
    // First deflated member claims one byte more than it inflates to.
    const c = centralEntry(deflated);
    const bigger = patched(deflated, (_, v) => v.setUint32(c + 24, v.getUint32(c + 24, true) + 1, true));
    expect(await expectBadNpz(bigger, 'bigger')).toMatch(/bytes after inflating|CRC/);
  });

  it('rejects a declared size smaller than the real data', async () => {
    const c = centralEntry(deflated);
    const smaller = patched(deflated, (_, v) => v.setUint32(c + 24, v.getUint32(c + 24, true) - 1, true));
    await expectBadNpz(smaller, 'smaller');
  });

  it('rejects zip-bomb size claims before allocating', async () => {
    const c = centralEntry(deflated);
    const bomb = patched(deflated, (_, v) => v.setUint32(c + 24, 0xfffffff0, true));
    expect(await expectBadNpz(bomb, 'bomb')).toMatch(/expansion/);
    // And a real, honest member over the caller's limit: too large, not damaged.
    expect(() => parseNpz(readFileSync(join(dir, 'zeros.npz')), { maxBytes: 1 << 20 })).toThrow(
      expect.objectContaining({ code: 'ERR_TOO_LARGE', message: expect.stringContaining('at most 1048576 uncompressed bytes (NpzOptions.maxBytes), got 16000128 declared') }),
    );
  });

  it('rejects members that share bytes (overlapping zip bomb)', async () => {
    const zip = zipSync({ 'a.npy': encodeNpy(sample('float32', [1000])), 'b.npy': encodeNpy(sample('float32', [1000])) });
    const c = centralEntry(zip, 1);
    expect(await expectBadNpz(patched(zip, (_, v) => v.setUint32(c + 42, 0, true)), 'overlap')).toContain('overlapping');
  });

  it('rejects stored members whose sizes disagree', async () => {
    const c = centralEntry(stored);
    const lying = patched(stored, (_, v) => v.setUint32(c + 24, v.getUint32(c + 24, true) + 8, true));
    expect(await expectBadNpz(lying, 'stored-size')).toContain('stored size');
    const bothLie = patched(stored, (_, v) => {
      v.setUint32(c + 20, v.getUint32(c + 20, true) + 8, true);
      v.setUint32(c + 24, v.getUint32(c + 24, true) + 8, true);
    });
    await expectBadNpz(bothLie, 'stored-both');
  });

  it('rejects corrupted member data (CRC) and corrupted deflate streams', async () => {
    const dataStart = indexOf(stored, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
    // First member is a float32 scalar: 128 header bytes, then its 4 data bytes.
    const flipped = patched(stored, (b) => (b[dataStart + 129] ^= 0xff));
    expect(await expectBadNpz(flipped, 'crc')).toContain('CRC-32');
    const l = indexOf(deflated, LOCAL);
    const v = new DataView(deflated.buffer);
    const body = l + 30 + v.getUint16(l + 26, true) + v.getUint16(l + 28, true);
    const broken = patched(deflated, (b) => b.fill(0xff, body, body + 8));
    await expectBadNpz(broken, 'deflate');
  });

  it('rejects bad offsets in the directory', async () => {
    const c = centralEntry(stored, 1);
    await expectBadNpz(patched(stored, (_, v) => v.setUint32(c + 42, 0x7fffffff, true)), 'local-offset');
    await expectBadNpz(patched(stored, (_, v) => v.setUint32(c + 42, 3, true)), 'local-sig');
    const e = indexOf(stored, [0x50, 0x4b, 0x05, 0x06]);
    await expectBadNpz(patched(stored, (_, v) => v.setUint16(e + 10, 60000, true)), 'count');
    await expectBadNpz(patched(stored, (_, v) => v.setUint32(e + 16, 0xfffffff0, true)), 'cd-offset');
  });

  it('rejects unsupported members', async () => {
    expect(await expectBadNpz(readFileSync(join(dir, 'bzip2.npz')), 'bzip2')).toContain('compression method');
    expect(await expectBadNpz(readFileSync(join(dir, 'txt.npz')), 'txt')).toContain('.npy');
    const corruptMember = zipSync({ 'a.npy': [new TextEncoder().encode('not an npy file'), { level: 0 }] });
    expect(await expectBadNpz(corruptMember, 'member')).toContain("member 'a.npy'");
    const dup = zipSync({ 'a.npy': encodeNpy(sample('uint8', [1])), 'b.npy': encodeNpy(sample('uint8', [1])) });
    // Rename b.npy to a.npy in the central directory.
    const c = centralEntry(dup, 1);
    await expectBadNpz(patched(dup, (b) => (b[c + 46] = 0x61)), 'duplicate');
    const encrypted = patched(dup, (_, v) => v.setUint16(centralEntry(dup) + 8, 1, true));
    await expectBadNpz(encrypted, 'encrypted');
  });

  it('rejects a deflated member relabelled as stored', () => {
    const npy = encodeNpy(sample('uint8', [4]));
    const zip = zipSync({ 'a.npy': [npy, { level: 6 }] });
    const c = centralEntry(zip);
    const method = new DataView(zip.buffer).getUint16(c + 10, true);
    expect(method).toBe(8);
    expectFormatError(() => parseNpz(patched(zip, (_, v) => v.setUint16(c + 10, 0, true))));
  });
});
