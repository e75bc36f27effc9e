import { describe, expect, it } from 'vitest';

import { NcAccumulator, ncMetrics, type NcMetrics } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const C = 7;
const dim = 41;
const data = clusters(3001, dim, C, 17, { separation: 2, shift: 5 }); // shifted: moments far from the origin
const ood = clusters(500, dim, 2, 3, { shift: 1 }).features;
const normal = gaussian(rng(9));
const weights = Float32Array.from({ length: C * dim }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());

function rows(from: number, to: number) {
  return { features: data.features.subarray(from * dim, to * dim), labels: data.labels.subarray(from, to) };
}

// 1e-7 relative: the in-memory route projects float64-centred rows with a float32 GEMM; streaming stays float64.
function expectSameMetrics(got: NcMetrics, want: NcMetrics) {
  for (const [key, value] of Object.entries(want)) {
    if (key === 'nc4_ncc_agreement') continue;
    if (value === null) expect(got[key as keyof NcMetrics], key).toBeNull();
    else expect(Math.abs((got[key as keyof NcMetrics] as number) - value), key).toBeLessThanOrEqual(1e-7 * Math.abs(value) + 1e-12);
  }
}

async function accumulate(batches: [number, number][]) {
  const acc = new NcAccumulator({ dim, numClasses: C });
  for (const [a, b] of batches) {
    const r = rows(a, b);
    await acc.add(r.features, r.labels);
  }
  return acc;
}

describe('NcAccumulator', () => {
  it('streaming batches equal the in-memory metrics', async () => {
    const want = await ncMetrics({ ...data, numClasses: C, weights, bias, oodFeatures: ood });
    const acc = await accumulate([[0, 1], [1, 500], [500, 1999], [1999, 3001]]);
    await acc.addOod(ood.subarray(0, 100 * dim));
    await acc.addOod(ood.subarray(100 * dim));
    const got = await acc.finalize({ weights, bias });
    expectSameMetrics(got, want);
    expect(got.nc4_ncc_agreement).toBeNull(); // needs a second pass over the data
    expect(got.n).toBe(3001);
  });

  it('merging partial states equals one state over all the data', async () => {
    const whole = await accumulate([[0, 3001]]);
    const a = await accumulate([[0, 1200]]);
    const b = await accumulate([[1200, 2500]]);
    const c = await accumulate([[2500, 3001]]);
    b.merge(c); // states with different shifts
    a.merge(b);
    expectSameMetrics(await a.finalize(), await whole.finalize());
    const empty = new NcAccumulator({ dim, numClasses: C });
    empty.merge(whole);
    expectSameMetrics(await empty.finalize(), await whole.finalize());
  });

  it('serialises and restores exactly; a damaged state is ERR_FILE_FORMAT', async () => {
    const acc = await accumulate([[0, 1000], [1000, 3001]]);
    const bytes = acc.serialize();
    const back = NcAccumulator.deserialize(bytes);
    expect(back.state()).toEqual(acc.state());
    expectSameMetrics(await back.finalize(), await acc.finalize());
    expect(() => NcAccumulator.deserialize(bytes.subarray(0, bytes.length - 8))).toThrowError(expect.objectContaining({ code: 'ERR_FILE_FORMAT' }));
    const tampered = acc.state();
    tampered.counts = tampered.counts.slice(1);
    expect(() => NcAccumulator.fromState(tampered)).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    tampered.counts = acc.state().counts.map((c, i) => (i === 0 ? Number.NaN : c));
    expect(() => NcAccumulator.fromState(tampered)).toThrowError(expect.objectContaining({ code: 'ERR_NOT_FINITE' }));
  });

  it('a bad batch leaves the state unchanged', async () => {
    const acc = await accumulate([[0, 1000]]);
    const before = acc.state();
    const r = rows(1000, 1100);
    const bad = Float32Array.from(r.features);
    bad[5] = Number.NaN;
    await expect(acc.add(bad, r.labels)).rejects.toMatchObject({ code: 'ERR_NOT_FINITE' });
    const badLabels = Int32Array.from(r.labels);
    badLabels[3] = C;
    await expect(acc.add(r.features, badLabels)).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE' });
    expect(acc.state()).toEqual(before);
  });

  it('errors: empty class at finalize, wrong dims, merge mismatch', async () => {
    const acc = await accumulate([[0, C - 1]]); // the first C-1 rows hold classes 0..C-2
    await expect(acc.finalize()).rejects.toMatchObject({ code: 'ERR_EMPTY_CLASS' });
    await expect(acc.add(new Float32Array(dim + 1), new Int32Array(1))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    expect(() => acc.merge(new NcAccumulator({ dim: dim + 1, numClasses: C }))).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => acc.merge(acc)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new NcAccumulator({ dim, numClasses: 1 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
