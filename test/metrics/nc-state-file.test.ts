// NC state files (docs/ncstate.md): save/load round trips, every damage refused with ERR_FILE_FORMAT and the
// reason, version 1 still read.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { canonicalDigest } from '../../lib/data/integrity.js';
import { encodeSafetensors, parseSafetensors, type Tensor } from '../../lib/data/index.js';
import { NcAccumulator } from '../../lib/index.js';
import { SIGNED_METADATA } from '../../lib/metrics/nc-state-file.js';
import { expectMetricsClose } from '../helpers/nc-close.js';
import { clusters } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const C = 5;
const dim = 12;
const data = clusters(600, dim, C, 31, { separation: 2, shift: 4 });
const ood = clusters(80, dim, 2, 5, { shift: 1 }).features;
const dir = tempDir('ncod-ncstate-');

async function accumulated(): Promise<NcAccumulator> {
  const acc = new NcAccumulator({ dim, numClasses: C });
  await acc.add(data.features.subarray(0, 250 * dim), data.labels.subarray(0, 250));
  await acc.add(data.features.subarray(250 * dim), data.labels.subarray(250));
  await acc.addOod(ood);
  return acc;
}

/** A parsed copy of a state file's tensors and metadata, to edit and re-encode (re-signed unless told not to). */
function edited(bytes: Uint8Array, edit: (tensors: Map<string, Tensor>, metadata: Record<string, string>) => void, resign = true): Uint8Array {
  const { tensors, metadata } = parseSafetensors(bytes.slice());
  const copies = new Map([...tensors].map(([k, t]) => [k, { ...t, data: t.data.slice() } as Tensor]));
  edit(copies, metadata);
  if (resign) metadata.sha256 = canonicalDigest(SIGNED_METADATA, metadata, copies);
  return encodeSafetensors(copies, metadata);
}

function refused(bytes: Uint8Array, message: RegExp) {
  expect(() => NcAccumulator.deserialize(bytes)).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(message) }));
}

describe('NC state files', () => {
  it('save → load restores the state exactly, atomically written, version 2 with a SHA-256', async () => {
    const acc = await accumulated();
    const path = join(dir, 'a.ncstate');
    await acc.save(path);
    expect(readdirSync(dir)).toEqual(['a.ncstate']); // no temp file left behind
    const back = await NcAccumulator.load(path);
    expect(back.state()).toEqual(acc.state());
    expect(await back.finalize()).toEqual(await acc.finalize());
    const { metadata } = parseSafetensors(readFileSync(path));
    expect(metadata).toMatchObject({ format: 'ncod.nc-accumulator', version: '2', dim: String(dim), classes: String(C), writer: expect.stringMatching(/^ncod /) });
    expect(metadata.sha256).toMatch(/^[0-9a-f]{64}$/);
    // serialize() writes the same content as save().
    expect(NcAccumulator.deserialize(acc.serialize()).state()).toEqual(acc.state());
    // An empty accumulator (no shift yet) round-trips too, and still merges.
    const empty = NcAccumulator.deserialize(new NcAccumulator({ dim, numClasses: C }).serialize());
    expect(empty.state().shift.length).toBe(0);
    empty.merge(back);
    expect(empty.state().counts).toEqual(acc.state().counts);
  });

  it('a changed byte anywhere, in a tensor or in the metadata, is ERR_FILE_FORMAT naming the checksum', async () => {
    const bytes = (await accumulated()).serialize();
    const lastByte = bytes.slice();
    lastByte[lastByte.length - 1] ^= 1; // the last tensor's last byte
    refused(lastByte, /expected contents matching the recorded SHA-256 [0-9a-f]{64}, got contents with SHA-256 [0-9a-f]{64}: the file is damaged/);
    const writer = edited(bytes, (_, metadata) => (metadata.writer = 'ncod 9.9.9'), false);
    refused(writer, /SHA-256/);
    const counts = edited(bytes, (tensors) => ((tensors.get('counts')!.data as Float64Array)[0] += 1), false);
    refused(counts, /SHA-256/);
  });

  it('a truncated file is ERR_FILE_FORMAT', async () => {
    const bytes = (await accumulated()).serialize();
    refused(bytes.subarray(0, bytes.length - 8), /truncated/);
    refused(bytes.subarray(0, 5), /expected an 8-byte header length, got 5 bytes/);
    const path = join(dir, 'truncated.ncstate');
    writeFileSync(path, bytes.subarray(0, 200));
    await expect(NcAccumulator.load(path)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringContaining(path) });
  });

  it('refuses wrong sizes, dtypes, tensors, non-finite values and counts even with a valid checksum', async () => {
    const bytes = (await accumulated()).serialize();
    refused(edited(bytes, (_, m) => (m.dim = String(dim + 1))), /tensor \w+ of shape \[.*\] \(dim 13, classes 5\), got \[/);
    refused(edited(bytes, (_, m) => (m.classes = '4')), /\(dim 12, classes 4\), got \[5/);
    // A small, validly signed file claiming dim = classes = 16384 is refused at once, before anything of that size.
    const huge = edited(bytes, (_, m) => Object.assign(m, { dim: '16384', classes: '16384' }));
    const start = performance.now();
    refused(huge, /\(dim 16384, classes 16384\), got \[12\]/);
    expect(performance.now() - start).toBeLessThan(500);
    refused(edited(bytes, (_, m) => (m.dim = '012')), /expected metadata dim as an integer in \[1, 16384\], got "012"/);
    refused(edited(bytes, (_, m) => (m.classes = '1')), /metadata classes as an integer in \[2, 1048576\], got "1"/);
    refused(edited(bytes, (t) => t.set('sums', { ...t.get('sums')!, shape: [dim, C] })), /tensor sums of shape \[5, 12\].*got \[12, 5\]/);
    refused(edited(bytes, (t) => t.set('extra', { dtype: 'float64', shape: [1], data: new Float64Array(1) })), /expected the tensors counts, .*got counts, extra/);
    refused(edited(bytes, (t) => t.delete('scatter')), /expected the tensors .*scatter.*, got (?!.*scatter)/);
    refused(edited(bytes, (t) => t.set('counts', { dtype: 'float32', shape: [C], data: new Float32Array(C).fill(100) })), /tensor counts as float64, got float32/);
    refused(edited(bytes, (t) => ((t.get('scatter')!.data as Float64Array)[7] = Number.NaN)), /expected finite values in scatter, got NaN at scatter\[7\]/);
    refused(edited(bytes, (t) => ((t.get('sqNorms')!.data as Float64Array)[1] = Infinity)), /got Infinity at sqNorms\[1\]/);
    refused(edited(bytes, (t) => ((t.get('counts')!.data as Float64Array)[2] = 1.5)), /expected whole non-negative numbers in counts, got 1.5 at counts\[2\]/);
    refused(edited(bytes, (t) => ((t.get('oodCount')!.data as Float64Array)[0] = -1)), /in oodCount, got -1/);
    refused(edited(bytes, (t) => t.set('shift', { dtype: 'float64', shape: [0], data: new Float64Array(0) })), /expected a shift tensor .*got an empty shift/);
  });

  it('refuses other formats and newer versions, naming them', async () => {
    const bytes = (await accumulated()).serialize();
    refused(edited(bytes, (_, m) => (m.format = 'ncod.trainer')), /expected an NC state \(format ncod.nc-accumulator\), got format ncod.trainer/);
    refused(edited(bytes, (_, m) => (m.version = '3')), /expected version ≤ 2 .*got version 3, written by ncod .*: upgrade ncod/);
    refused(edited(bytes, (_, m) => (m.version = '0')), /expected version 1 to 2, got "0"/);
    refused(encodeSafetensors(new Map(), {}), /got no format/);
  });

  it('still reads version 1 states (no checksum)', async () => {
    const acc = await accumulated();
    const v1 = edited(acc.serialize(), (_, m) => {
      m.version = '1';
      delete m.writer;
      delete m.sha256;
    }, false);
    expect(parseSafetensors(v1).metadata).toEqual({ format: 'ncod.nc-accumulator', version: '1', dim: String(dim), classes: String(C) });
    expect(NcAccumulator.deserialize(v1).state()).toEqual(acc.state());
  });

  it('loaded states of different dims or class counts do not merge (ERR_SHAPE); bad arguments are refused', async () => {
    const acc = await accumulated();
    for (const [d, c] of [[dim + 1, C], [dim, C + 1]]) {
      const other = new NcAccumulator({ dim: d, numClasses: c });
      await other.add(new Float32Array(3 * d).map((_, i) => i % 5), Int32Array.from([0, 1, 2]));
      const path = join(dir, `other-${d}-${c}.ncstate`);
      await other.save(path);
      const loaded = await NcAccumulator.load(path);
      expect(() => acc.merge(loaded)).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE', message: expect.stringContaining(`got dim ${d} and ${c} classes`) }));
    }
    await expect(acc.save('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(NcAccumulator.load(3 as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => NcAccumulator.deserialize('x' as unknown as Uint8Array)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('metrics of a loaded state equal those before saving', async () => {
    const acc = await accumulated();
    const back = NcAccumulator.deserialize(acc.serialize());
    expectMetricsClose(await back.finalize({ weightedGlobalMean: true }), await acc.finalize({ weightedGlobalMean: true }), 0);
  });
});
