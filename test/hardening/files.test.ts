// Issue #15, items 5–9: integrity checks that a flipped bit cannot slip past, sizes checked before allocation, small
// files that must not amplify, inputs that must not hang (FIFOs, zero or fractional dims, sparse arrays with a huge
// length), and plain JS errors where a documented code belongs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as zlib from 'node:zlib';

import { describe, expect, it } from 'vitest';

import {
  NcAccumulator,
  Trainer,
  encodeNpy,
  encodeSafetensors,
  l2NormalizeRows,
  loadCheckpoint,
  parseNpz,
  readIdx,
  readIdxPair,
  saveCheckpoint,
  writeNpy,
  type Tensor,
} from '../../lib/index.js';
import { loadPaperData } from '../../lib/bench/paper-data.js';
import { elementCount } from '../../lib/data/tensor.js';
import { native } from '../../lib/native.js';
import { integrityDigest } from '../../lib/train/checkpoint.js';
import { expectCliError } from '../cli/helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const small = { layers: [6, 5], classes: 3, projector: 'etf' as const, projectorHidden: 8, seed: 0, lr: 0.001 };

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp) {
  await expect(promise).rejects.toMatchObject({ code, ...(message ? { message: expect.stringMatching(message) } : {}) });
}

function sparseHuge(first = 4): number[] {
  const a: number[] = [];
  a.length = 2 ** 32 - 1;
  a[0] = first;
  return a;
}

describe('checkpoints: one SHA-256 over metadata and tensors (item 5)', () => {
  it('a single flipped bit in the learning rate, the seed or the step is ERR_FILE_FORMAT', async () => {
    const dir = tempDir('ncod-hard-ckpt-');
    const trainer = new Trainer(small);
    const file = path.join(dir, 'model.safetensors');
    await saveCheckpoint(trainer, file);
    const bytes = readFileSync(file);
    const text = bytes.toString('latin1');
    const flips: [string, string][] = [
      ['lr\\":0.001', 'lr\\":0.003'], // inside the options JSON string, so its quotes are escaped
      ['seed\\":0', 'seed\\":1'],
      ['"step":"0"', '"step":"1"'],
    ];
    for (const [from, to] of flips) {
      const at = text.indexOf(from);
      expect(at, from).toBeGreaterThan(0);
      const k = [...from].findIndex((c, i) => c !== to[i]);
      const altered = Buffer.from(bytes);
      altered[at + k] ^= from.charCodeAt(k) ^ to.charCodeAt(k);
      expect(altered.toString('latin1')).toContain(to);
      expect([...altered].filter((b, i) => b !== bytes[i]).length).toBe(1); // one byte
      const target = path.join(dir, 'flipped.safetensors');
      writeFileSync(target, altered);
      await rejectsWith(loadCheckpoint(target), 'ERR_FILE_FORMAT', /SHA-256/);
    }
    // The clean file still loads, with its options.
    expect((await loadCheckpoint(file)).options.lr).toBe(0.001);
  });

  it("projector 'etf' rewritten to 'none' (tensors unchanged) is ERR_FILE_FORMAT", async () => {
    const dir = tempDir('ncod-hard-ckpt-');
    const file = path.join(dir, 'model.safetensors');
    await saveCheckpoint(new Trainer(small), file);
    // Not one bit, but the same attack: the header re-encoded with the options edited and the old sha256 kept.
    const { readSafetensors, writeSafetensors } = await import('../../lib/data/index.js');
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata.options).toContain('"projector":"etf"');
    await writeSafetensors(path.join(dir, 'none.safetensors'), tensors, { ...metadata, options: metadata.options!.replace('"etf"', '"none"') });
    await rejectsWith(loadCheckpoint(path.join(dir, 'none.safetensors')), 'ERR_FILE_FORMAT', /SHA-256/);
  });

  it('options claiming layers [16384, 16384] in a tiny file are refused at once, before any allocation', async () => {
    const dir = tempDir('ncod-hard-ckpt-');
    const tensors = new Map<string, Tensor>();
    for (const prefix of ['param', 'adam_m', 'adam_v']) tensors.set(`${prefix}.0`, { dtype: 'float32', shape: [1], data: new Float32Array(1) });
    const options = JSON.stringify({ ...small, layers: [16384, 16384], projector: 'none' });
    for (const version of ['1', '2']) {
      const metadata: Record<string, string> = { format: 'ncod.trainer', version, options, step: '0', epoch: '0' };
      metadata.sha256 = integrityDigest(metadata, tensors);
      const file = path.join(dir, `big-v${version}.safetensors`);
      writeFileSync(file, encodeSafetensors(tensors, metadata));
      expect(readFileSync(file).length).toBeLessThan(4096);
      const start = performance.now();
      await rejectsWith(loadCheckpoint(file), 'ERR_FILE_FORMAT', /268435456 elements/);
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });
});

describe('accumulator states: claimed sizes checked against the bytes (item 5)', () => {
  it('a few hundred bytes claiming dim = classes = 16384 are refused at once', () => {
    const acc = new NcAccumulator({ dim: 2, numClasses: 2 });
    const bytes = Buffer.from(acc.serialize()).toString('latin1').replace('"dim":"2"', '"dim":"16384"').replace('"classes":"2"', '"classes":"16384"');
    const state = Buffer.from(bytes, 'latin1');
    expect(state.length).toBeLessThan(1500);
    const start = performance.now();
    expect(() => NcAccumulator.deserialize(new Uint8Array(state))).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT' }));
    // The raw binding too: the native constructor checks lengths before allocating.
    const raw = native().NcAccumulator;
    const s = acc.state();
    expect(() => raw.fromState({ state: { ...s, dim: 16384, classes: 16384 }, backend: 'cpu' })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

// A zip holding one deflated member with the given name and content; `declaredSize` overrides the size fields.
function zipOf(name: string, content: Uint8Array, declaredSize = content.length): Uint8Array {
  const data = zlib.deflateRawSync(content);
  const crc = zlib.crc32(content) >>> 0;
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(declaredSize, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(declaredSize, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = local.length + nameBytes.length + data.length;
  const cdSize = central.length + nameBytes.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return new Uint8Array(Buffer.concat([local, nameBytes, data, central, nameBytes, eocd]));
}

describe('small files must not amplify (item 6)', () => {
  it('an npz member whose .npy header disagrees with its declared size is refused from its first inflated bytes', () => {
    // 256 MiB of zeros deflate to ~250 KiB; the .npy header inside says 4 float32s.
    const header = encodeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) });
    const content = new Uint8Array(256 * 2 ** 20);
    content.set(header.subarray(0, header.length - 16));
    const zip = zipOf('x.npy', content);
    expect(zip.length).toBeLessThan(2 ** 20);
    const before = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    expect(() => parseNpz(zip)).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(/implying 144/) }));
    expect(performance.now() - start).toBeLessThan(500); // inflating 256 MiB takes longer than this
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('an npz member that inflates past its declared size stops at once; a damaged CRC is still refused', () => {
    const t = { dtype: 'float32' as const, shape: [1000], data: new Float32Array(1000).fill(1) };
    const npy = encodeNpy(t);
    expect(parseNpz(zipOf('a.npy', npy)).get('a')!.shape).toEqual([1000]);
    expect(() => parseNpz(zipOf('a.npy', npy, npy.length - 8))).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT' }));
    const damaged = zipOf('a.npy', npy);
    const crcAt = 14;
    damaged[crcAt] ^= 1;
    damaged[damaged.length - 22 - 46 - 5 + 16] ^= 1; // the central directory's CRC as well
    expect(() => parseNpz(damaged)).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(/CRC/) }));
  });

  it('an IDX pair whose label count disagrees with the image count is refused before decompressing the images', async () => {
    const dir = tempDir('ncod-hard-idx-');
    const n = 300_000; // 235 MB of pixels: decompressing them takes far longer than reading two headers
    const images = Buffer.alloc(16 + n * 784);
    images.writeUInt32BE(0x00000803, 0);
    images.writeUInt32BE(n, 4);
    images.writeUInt32BE(28, 8);
    images.writeUInt32BE(28, 12);
    writeFileSync(path.join(dir, 'images.gz'), zlib.gzipSync(images));
    const labels = Buffer.alloc(8 + 10);
    labels.writeUInt32BE(0x00000801, 0);
    labels.writeUInt32BE(10, 4);
    writeFileSync(path.join(dir, 'labels'), labels);
    const start = performance.now();
    await rejectsWith(readIdxPair(path.join(dir, 'images.gz'), path.join(dir, 'labels')), 'ERR_FILE_FORMAT', /300000 labels/);
    expect(performance.now() - start).toBeLessThan(150);
  });
});

describe('inputs that used to hang (item 7)', () => {
  it('a FIFO named in a bench paper --data spec, or as the spec, or to readIdx, is ERR_INVALID_ARGUMENT', async () => {
    const dir = tempDir('ncod-hard-fifo-');
    const fifo = path.join(dir, 'pipe.npy'); // a known extension, so that the regular-file check is what refuses it
    execFileSync('mkfifo', [fifo]);
    await writeNpy(path.join(dir, 'x.npy'), { dtype: 'float32', shape: [4, 2], data: new Float32Array(8) });
    const part = { features: 'pipe.npy', labels: 'pipe.npy' };
    writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ id: { name: 'a', train: part, test: part }, ood: [{ name: 'b', train: part, test: part }] }));
    await rejectsWith(loadPaperData(path.join(dir, 'spec.json')), 'ERR_INVALID_ARGUMENT', /regular file/);
    await rejectsWith(loadPaperData(fifo), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(readIdx(fifo), 'ERR_INVALID_ARGUMENT', /regular file/);
  }, 10_000);

  it('l2NormalizeRows with a zero, fractional or non-dividing dim is ERR_SHAPE', () => {
    const x = new Float32Array(6).fill(1);
    for (const dim of [0, 0.5, -1, NaN, 4]) {
      expect(() => l2NormalizeRows(x, dim), String(dim)).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    }
    expect(Array.from(l2NormalizeRows(x, 3))).toEqual(Array(6).fill(Math.fround(1 / Math.sqrt(3))));
  });

  it('sparse arrays with a huge length as shapes or layer lists are refused at once', () => {
    const start = performance.now();
    expect(() => elementCount(sparseHuge())).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => encodeNpy({ dtype: 'float32', shape: sparseHuge(), data: new Float32Array(4) })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => new Trainer({ layers: sparseHuge(), classes: 2 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const withHole = [4, 3];
    withHole.length = 5;
    expect(() => new Trainer({ layers: withHole, classes: 2 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const config = { widths: sparseHuge(), classes: 2, projectorHidden: 0 };
    expect(() => native().forwardLayer({ config, params: [], x: new Float32Array(4), rows: 1, layer: 0, backend: 'cpu' })).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('documented codes instead of plain JS errors (item 9)', () => {
  it('bench paper --data with 300 000 labels computes the class count without overflowing the stack', async () => {
    const dir = tempDir('ncod-hard-paper-');
    const n = 300_000;
    const save = async (name: string) => {
      await writeNpy(path.join(dir, `${name}_x.npy`), { dtype: 'float32', shape: [n, 1], data: new Float32Array(n) });
      await writeNpy(path.join(dir, `${name}_y.npy`), { dtype: 'int32', shape: [n], data: Int32Array.from({ length: n }, (_, i) => i % 3) });
      return { features: `${name}_x.npy`, labels: `${name}_y.npy` };
    };
    const part = await save('p');
    writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ id: { name: 'a', train: part, test: part }, ood: [{ name: 'b', train: part, test: part }] }));
    const data = await loadPaperData(path.join(dir, 'spec.json'));
    expect(data.id.classes).toBe(3);
  });

  it('bench paper --out that cannot be created fails up front with ERR_IO', () => {
    const dir = tempDir('ncod-hard-out-');
    writeFileSync(path.join(dir, 'file'), 'x');
    const start = performance.now();
    const stderr = expectCliError(['bench', 'paper', '--quick', '--out', path.join(dir, 'file', 'sub')], 'ERR_IO');
    expect(stderr).toMatch(/--out/);
    expect(performance.now() - start).toBeLessThan(30_000); // the quick benchmark itself takes minutes
  }, 60_000);
});
