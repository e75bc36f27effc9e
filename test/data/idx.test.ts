import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdx } from '../../lib/data/idx.js';
import { expectFormatError, tmpDir } from './fixtures.js';

const dir = tmpDir();

/** An IDX file: magic, big-endian dims, then `data` (already big-endian). */
function idx(type: number, dims: number[], data: Uint8Array | number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Big-endian encoding of `values` with a DataView setter. */
function be(size: number, values: number[], set: (v: DataView, o: number, x: number) => void): Uint8Array {
  const out = new Uint8Array(size * values.length);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => set(view, i * size, x));
  return out;
}

async function expectBadIdx(bytes: Uint8Array, name: string): Promise<string> {
  const message = expectFormatError(() => parseIdx(bytes));
  const path = join(dir, `bad-${name}.idx`);
  writeFileSync(path, bytes);
  await expect(readIdx(path)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  return message;
}

// MNIST-like: 3 images of 2x2 pixels, and 5 labels.
const images = idx(0x08, [3, 2, 2], [0, 1, 2, 3, 250, 251, 252, 253, 255, 128, 64, 32]);
const labels = idx(0x08, [5], [7, 2, 1, 0, 4]);

describe('idx', () => {
  it('reads MNIST-style uint8 images and labels', async () => {
    expect(parseIdx(images)).toEqual({ dtype: 'uint8', shape: [3, 2, 2], data: Uint8Array.from([0, 1, 2, 3, 250, 251, 252, 253, 255, 128, 64, 32]) });
    const path = join(dir, 'train-labels-idx1-ubyte');
    writeFileSync(path, labels);
    expect(await readIdx(path)).toEqual({ dtype: 'uint8', shape: [5], data: Uint8Array.from([7, 2, 1, 0, 4]) });
  });

  it('converts every other type from big-endian', () => {
    expect(parseIdx(idx(0x09, [4], [0x00, 0x7f, 0x80, 0xff]))).toEqual({ dtype: 'int32', shape: [4], data: Int32Array.from([0, 127, -128, -1]) });
    const i16 = [-32768, -2, 0, 32767];
    expect(parseIdx(idx(0x0b, [2, 2], be(2, i16, (v, o, x) => v.setInt16(o, x))))).toEqual({ dtype: 'int32', shape: [2, 2], data: Int32Array.from(i16) });
    const i32 = [-2147483648, -1, 123456789, 2147483647];
    expect(parseIdx(idx(0x0c, [4], be(4, i32, (v, o, x) => v.setInt32(o, x))))).toEqual({ dtype: 'int32', shape: [4], data: Int32Array.from(i32) });
    const f32 = [-1.5, 0, 3.25, 1e30];
    expect(parseIdx(idx(0x0d, [1, 4], be(4, f32, (v, o, x) => v.setFloat32(o, x))))).toEqual({ dtype: 'float32', shape: [1, 4], data: Float32Array.from(f32) });
    const f64 = [Math.PI, -1e300, 0.1];
    expect(parseIdx(idx(0x0e, [3], be(8, f64, (v, o, x) => v.setFloat64(o, x))))).toEqual({ dtype: 'float64', shape: [3], data: Float64Array.from(f64) });
  });

  it('reads empty and zero-dimensional files', () => {
    expect(parseIdx(idx(0x08, [0, 28, 28], []))).toEqual({ dtype: 'uint8', shape: [0, 28, 28], data: new Uint8Array(0) });
    expect(parseIdx(idx(0x0c, [], [0, 0, 0, 9]))).toEqual({ dtype: 'int32', shape: [], data: Int32Array.from([9]) });
  });

  it('reads gzip-compressed files, detected by content', async () => {
    const path = join(dir, 'train-images-idx3-ubyte.gz');
    writeFileSync(path, gzipSync(images));
    expect(await readIdx(path)).toEqual(parseIdx(images));
    const noSuffix = join(dir, 'images-gz-without-suffix');
    writeFileSync(noSuffix, gzipSync(images));
    expect(await readIdx(noSuffix)).toEqual(parseIdx(images));
    // A larger file, bigger than the header probe.
    const big = idx(0x08, [1000, 28, 28], Uint8Array.from({ length: 784000 }, (_, i) => (i * 13) % 256));
    const fromGz = parseIdx(gzipSync(big));
    expect(fromGz.shape).toEqual([1000, 28, 28]);
    expect(Buffer.compare(fromGz.data as Uint8Array, big.subarray(16))).toBe(0);
  });
});

describe('idx hostile files', () => {
  it('rejects truncation at several points, plain and gzipped', async () => {
    for (const at of [0, 1, 3, 4, 7, 15, images.length - 1]) {
      await expectBadIdx(images.subarray(0, at), `trunc-${at}`);
      await expectBadIdx(gzipSync(images.subarray(0, at)), `gz-short-${at}`);
    }
    const gz = gzipSync(images);
    for (const at of [2, 10, 20, gz.length - 4, gz.length - 1]) await expectBadIdx(gz.subarray(0, at), `gz-trunc-${at}`);
  });

  it('rejects trailing data, plain and gzipped', async () => {
    const longer = new Uint8Array(images.length + 3);
    longer.set(images);
    expect(await expectBadIdx(longer, 'trailing')).toContain('trailing data');
    // The gzip stream inflates past the header's claim: stopped by maxOutputLength.
    await expectBadIdx(gzipSync(longer), 'gz-trailing');
  });

  it('rejects bad magic, unknown types and garbage', async () => {
    expect(await expectBadIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), 'magic')).toContain('magic');
    expect(await expectBadIdx(idx(0x0a, [1], [0]), 'type')).toContain('0x0a');
    await expectBadIdx(Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251 | 1), 'garbage');
    await expectBadIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8]), 'bad-gzip');
  });

  it('rejects huge claimed shapes without allocating', async () => {
    const huge = idx(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], []);
    await expectBadIdx(huge, 'huge');
    await expectBadIdx(gzipSync(huge), 'gz-huge');
    // Representable, but far more than 30 gzip bytes could ever inflate to.
    expect(await expectBadIdx(gzipSync(idx(0x08, [60000, 28, 28], [])), 'gz-claim')).toContain('header claiming');
  });
});
