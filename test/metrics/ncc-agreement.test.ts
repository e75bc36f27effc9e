// nccAgreementCount: NC4's second pass, batch by batch, against the in-memory ncMetrics nc4_ncc_agreement and a
// float64 reference (nearest class mean vs the classifier's argmax, first maximum on ties).
import { describe, expect, it } from 'vitest';

import { ncMetrics, nccAgreementCount } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

function classMeans(x: Float32Array, y: Int32Array, d: number, C: number): Float64Array {
  const sums = new Float64Array(C * d);
  const counts = new Float64Array(C);
  for (let i = 0; i < y.length; i++) {
    counts[y[i]]++;
    for (let j = 0; j < d; j++) sums[y[i] * d + j] += x[i * d + j];
  }
  return sums.map((s, k) => s / counts[Math.floor(k / d)]);
}

/** Float64 reference count over all rows. */
function referenceCount(x: Float32Array, d: number, means: Float64Array, w: Float32Array, b: Float32Array | null, C: number): number {
  let agree = 0;
  for (let i = 0; i < x.length / d; i++) {
    let ncc = 0, nccBest = Infinity, clf = 0, clfBest = -Infinity;
    for (let c = 0; c < C; c++) {
      let dist = 0, logit = b ? b[c] : 0;
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        dist += (v - means[c * d + j]) ** 2;
        logit += v * w[c * d + j];
      }
      if (dist < nccBest) [nccBest, ncc] = [dist, c];
      if (logit > clfBest) [clfBest, clf] = [logit, c];
    }
    agree += Number(ncc === clf);
  }
  return agree;
}

const cases = [
  { n: 300, d: 13, C: 4, sizes: [1, 7, 31, 2] },
  { n: 517, d: 64, C: 10, sizes: [97, 1, 211] },
  { n: 89, d: 3, C: 7, sizes: [5, 13] }, // C > d
];

describe('nccAgreementCount', () => {
  for (const { n, d, C, sizes } of cases) {
    it(`n ${n}, d ${d}, C ${C}: Σ counts / N equals ncMetrics' nc4_ncc_agreement exactly`, async () => {
      const { features, labels } = clusters(n, d, C, n + d, { shift: 3, separation: 1.5 });
      const normal = gaussian(rng(d));
      // A noisy head: agrees with the nearest mean on some rows only.
      const means = classMeans(features, labels, d, C);
      const weights = Float32Array.from({ length: C * d }, (_, k) => means[k] + 0.8 * normal());
      const bias = Float32Array.from({ length: C }, () => normal());
      const nc = await ncMetrics({ features, labels, dim: d, numClasses: Math.max(C, 2), weights, bias });
      let total = 0;
      for (let r = 0, k = 0; r < n; k++) {
        const s = Math.min(sizes[k % sizes.length], n - r);
        total += await nccAgreementCount(features.subarray(r * d, (r + s) * d), means, weights, bias, C);
        r += s;
      }
      expect(total / n).toBe(nc.nc4_ncc_agreement);
      expect(total).toBe(referenceCount(features, d, means, weights, bias, C));
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThan(n);
    });
  }

  it('without bias; Float64Array features; an empty batch is ERR_SHAPE', async () => {
    const { features, labels } = clusters(50, 6, 3, 1);
    const means = classMeans(features, labels, 6, 3);
    const weights = Float32Array.from(means);
    await expect(nccAgreementCount(new Float32Array(0), means, weights, null, 3)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    const count = await nccAgreementCount(Float64Array.from(features), means, weights, undefined, 3);
    expect(count).toBe(referenceCount(features, 6, means, weights, null, 3));
  });

  it('ties: the first maximum wins in both (equal means and equal weight rows agree on class 0)', async () => {
    const means = Float64Array.of(1, 1, 1, 1);
    const weights = Float32Array.of(1, 0, 1, 0);
    expect(await nccAgreementCount(Float32Array.of(0.5, 2, -1, 3), means, weights, null, 2)).toBe(2);
  });

  it('checks its arguments (TS and C++)', async () => {
    const means = new Float64Array(6);
    const w = new Float32Array(6);
    const x = new Float32Array(9);
    await expect(nccAgreementCount(x, new Float32Array(6) as never, w, null, 2)).rejects.toMatchObject({ code: 'ERR_DTYPE' });
    await expect(nccAgreementCount(x, new Float64Array(5), w, null, 2)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(nccAgreementCount(new Float32Array(8), means, w, null, 2)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(nccAgreementCount(x, means, new Float32Array(5), null, 2)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(nccAgreementCount(x, means, w, new Float32Array(3), 2)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(nccAgreementCount(x, means, w, null, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(nccAgreementCount(Float32Array.of(NaN, 0, 0), means, w, null, 2)).rejects.toMatchObject({ code: 'ERR_NOT_FINITE' });
    await expect(nccAgreementCount(x, Float64Array.of(0, 0, 0, 0, Infinity, 0), w, null, 2)).rejects.toMatchObject({ code: 'ERR_NOT_FINITE' });
    const controller = new AbortController();
    controller.abort();
    await expect(nccAgreementCount(x, means, w, null, 2, { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const b = native();
    const good = { features: x, rows: 3, dim: 3, means, weights: w, bias: null, classes: 2, backend: 'cpu' as const };
    const raw = (change: Record<string, unknown>) => () => b.nccAgreementCount({ ...good, ...change } as never);
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(raw({})).not.toThrow();
    expect(() => (b.nccAgreementCount as (...a: unknown[]) => unknown)(good, undefined)).toThrow(code('ERR_INVALID_ARGUMENT')); // arity
    expect(raw({ rows: 4 })).toThrow(code('ERR_SHAPE'));
    expect(raw({ means: new Float32Array(6) })).toThrow(code('ERR_DTYPE'));
    expect(raw({ means: new Float64Array(4) })).toThrow(code('ERR_SHAPE'));
    expect(raw({ weights: null })).toThrow(code('ERR_DTYPE'));
    expect(raw({ bias: new Float32Array(1) })).toThrow(code('ERR_SHAPE'));
    expect(raw({ dim: 0 })).toThrow(code('ERR_SHAPE'));
    expect(raw({ backend: 'gpu' })).toThrow(code('ERR_INVALID_ARGUMENT'));
    expect(raw({ classes: 0 })).toThrow(code('ERR_INVALID_ARGUMENT'));
  });
});
