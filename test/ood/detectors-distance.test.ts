// Mahalanobis, Relative Mahalanobis and KNN vs the float64 NumPy reference.
//
// Tolerances: Mahalanobis runs in float64 after reading the float32 inputs (class statistics, eigendecomposition,
// whitening, both GEMMs), so it matches to 1e-7 relative even with the ridge-limited condition number of 1e6
// (N ≤ d cases). KNN filters cheap similarities (bfloat16 or float32 products) with a bound on their error and
// recomputes the survivors in float64, so only the float32 rounding of the unit vectors remains: at most
// 2^-23·Σ|q_j x_j| <= 1.2e-7 per similarity, and the k-th order statistic moves by no more; 1e-6 absolute
// (cosines lie in [−1, 1]; a relative bound means nothing near 0).
import { describe, expect, it } from 'vitest';

import { detectors, l2NormalizeRows } from '../../lib/index.js';
import { oodReference } from '../helpers/ood-reference.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

function expectClose(actual: Float64Array, expected: Float64Array, rel: number, abs: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    expect(Math.abs(actual[i] - e), `row ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const mahaCases = [
  { n: 5, d: 1, C: 2, m: 1 },
  { n: 101, d: 3, C: 2, m: 13 },
  { n: 997, d: 16, C: 5, m: 4099 }, // queries above the 4096-row block
  { n: 50, d: 64, C: 3, m: 31 }, // N < d: rank-deficient covariance, the ridge decides
  { n: 2003, d: 129, C: 10, m: 257 },
];

describe('Mahalanobis and Relative Mahalanobis equal the float64 reference', () => {
  for (const { n, d, C, m } of mahaCases) {
    for (const relative of [false, true]) {
      const name = relative ? 'relativeMahalanobis' : 'mahalanobis';
      it(`${name} N=${n} d=${d} C=${C} queries=${m}`, async () => {
        const { features, labels } = clusters(n, d, C, n + d, { separation: 2, shift: 0.5 });
        const x = clusters(m, d, C, m + 7, { separation: 1 }).features;
        const det = relative ? detectors.relativeMahalanobis() : detectors.mahalanobis();
        await det.fit({ features, labels, numClasses: C });
        const got = await det.score(x);
        const want = await oodReference(
          { detector: name, numClasses: C, ridge: 1e-6 },
          { features: { data: features, shape: [n, d] }, labels: { data: labels, shape: [n] }, x: { data: x, shape: [m, d] } },
        );
        expectClose(got, want, 1e-7, 1e-9);
      });
    }
  }

  it('a custom ridge is used', async () => {
    const { features, labels } = clusters(40, 8, 2, 3);
    const det = await detectors.mahalanobis({ ridge: 0.1 }).fit({ features, labels, numClasses: 2 });
    const want = await oodReference(
      { detector: 'mahalanobis', numClasses: 2, ridge: 0.1 },
      { features: { data: features, shape: [40, 8] }, labels: { data: labels, shape: [40] }, x: { data: features, shape: [40, 8] } },
    );
    expectClose(await det.score(features), want, 1e-7, 1e-9);
  });
});

// d < 64 takes the float32 GEMM path, d >= 64 the bfloat16 one where the CPU has AVX512-BF16.
const knnCases = [
  { n: 1, d: 1, m: 1, k: 1 },
  { n: 13, d: 3, m: 7, k: 13 }, // k = fit size
  { n: 5003, d: 17, m: 401, k: 1 }, // fit set over several 1024-row tiles, queries above the 384-row block
  { n: 5003, d: 17, m: 401, k: 50 },
  { n: 997, d: 256, m: 67, k: 997 },
  { n: 1, d: 64, m: 3, k: 1 },
  { n: 33, d: 65, m: 13, k: 7 }, // odd d (a padded pair), a partial 32-row panel, a partial 12-query group
  { n: 2053, d: 129, m: 397, k: 50 }, // queries over two blocks
  { n: 4099, d: 512, m: 25, k: 1 },
  { n: 4099, d: 512, m: 25, k: 1000 },
];

describe('KNN equals the float64 reference', () => {
  for (const { n, d, m, k } of knnCases) {
    it(`N=${n} d=${d} queries=${m} k=${k}`, async () => {
      const normal = gaussian(rng(n + d + k));
      const features = Float32Array.from({ length: n * d }, () => normal());
      const x = Float32Array.from({ length: m * d }, () => normal());
      const det = await detectors.knn({ k }).fit({ features, dim: d });
      const got = await det.score(x);
      const want = await oodReference(
        { detector: 'knn', k },
        { features: { data: features, shape: [n, d] }, x: { data: x, shape: [m, d] } },
      );
      expectClose(got, want, 0, 1e-6);
    });
  }

  // Rows scaled to unit norm exactly as ncod does (float64 norm, float32 result), so the exact answer is known.
  const normalised32 = (x: Float32Array, d: number) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length / d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] * inv;
    }
    return out;
  };
  const kthDot = (q: Float32Array, bank: Float32Array, d: number, i: number, k: number) => {
    const dots = Array.from({ length: bank.length / d }, (_, r) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[i * d + j] * bank[r * d + j];
      return s;
    });
    return dots.sort((a, b) => b - a)[k - 1];
  };

  // Similarities packed far closer than the bfloat16 error (queries nearly orthogonal to every fit row): the
  // bfloat16 filter gives up and float32 GEMM tiles redo the block.
  it('nearly orthogonal queries: d=128 k=10', async () => {
    const d = 128, n = 4001, m = 50, k = 10;
    const features = Float32Array.from({ length: n * d }, (_, i) => Math.sin(0.37 * i));
    const x = Float32Array.from({ length: m * d }, (_, i) => Math.cos(0.11 * i));
    const got = await (await detectors.knn({ k }).fit({ features, dim: d })).score(x);
    const [qn, bn] = [normalised32(x, d), normalised32(features, d)];
    for (let i = 0; i < m; i++) expect(Math.abs(got[i] - kthDot(qn, bn, d, i, k)), `row ${i}`).toBeLessThanOrEqual(1e-12);
  });

  // Near-ties: bank rows a shared direction plus noise of 1e-3, so thousands of similarities lie within the
  // bfloat16 error of the k-th one (the filter must keep them all), plus all-zero rows and queries (similarity 0).
  for (const d of [17, 300]) {
    for (const k of [1, 10, 400]) {
      it(`near-ties, zero rows: d=${d} k=${k}`, async () => {
        const normal = gaussian(rng(d * k));
        const base = Array.from({ length: d }, () => normal());
        const n = 3001, m = 29;
        const features = new Float32Array(n * d);
        for (let i = 0; i < n; i++) {
          if (i % 97 === 5) continue; // all-zero rows
          for (let j = 0; j < d; j++) features[i * d + j] = base[j] + 1e-3 * normal();
        }
        const x = new Float32Array(m * d);
        for (let i = 1; i < m; i++) for (let j = 0; j < d; j++) x[i * d + j] = (i % 2 ? base[j] : -base[j]) + 0.05 * normal();
        const det = await detectors.knn({ k }).fit({ features, dim: d });
        const got = await det.score(x);
        expect(got[0]).toBe(0); // the all-zero query
        const want = await oodReference({ detector: 'knn', k }, { features: { data: features, shape: [n, d] }, x: { data: x, shape: [m, d] } });
        expectClose(got, want, 0, 1e-6);
        // Exact: the k-th largest float64 dot product of the normalised float32 rows, up to summation order.
        const [qn, bn] = [normalised32(x, d), normalised32(features, d)];
        for (let i = 0; i < m; i++) expect(Math.abs(got[i] - kthDot(qn, bn, d, i, k)), `row ${i}`).toBeLessThanOrEqual(1e-12);
      });
    }
  }

  it('is exact with ties: duplicated fit rows and queries equal to fit rows', async () => {
    // Fit rows on a small integer grid, each repeated 3 times; queries are fit rows themselves.
    const random = rng(5);
    const base = Array.from({ length: 40 }, () => Array.from({ length: 4 }, () => Math.floor(random() * 5) - 2));
    const rows = base.flatMap((r) => [r, r, r]);
    const features = Float32Array.from(rows.flat());
    const x = Float32Array.from(base.slice(0, 10).flat());
    const cos = (a: number[], b: number[]) => {
      const dot = a.reduce((s, v, j) => s + v * b[j], 0);
      const na = Math.hypot(...a), nb = Math.hypot(...b);
      return na > 0 && nb > 0 ? dot / (na * nb) : 0;
    };
    for (const k of [1, 3, 4, 7, 120]) {
      const got = await (await detectors.knn({ k }).fit({ features, dim: 4 })).score(x);
      for (let i = 0; i < 10; i++) {
        const sims = rows.map((r) => cos(base[i], r)).sort((a, b) => b - a);
        expect(Math.abs(got[i] - sims[k - 1]), `k=${k} row ${i}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });
});

describe('Mahalanobis++ (L2-normalised features)', () => {
  it.each([false, true])('relative = %s: equals the plain detector fitted and scored on L2-normalised rows, bit for bit', async (relative) => {
    const [n, d, c] = [257, 9, 4];
    const fit = clusters(n, d, c, 21, { shift: 2 });
    const queries = clusters(61, d, c, 22, { shift: 3 });
    const plusPlus = relative ? detectors.relativeMahalanobisPlusPlus() : detectors.mahalanobisPlusPlus();
    const plain = relative ? detectors.relativeMahalanobis() : detectors.mahalanobis();
    await plusPlus.fit({ features: fit.features, labels: fit.labels, numClasses: c });
    await plain.fit({ features: l2NormalizeRows(fit.features, d), labels: fit.labels, numClasses: c });
    expect(plusPlus.method).toBe(relative ? 'relative-mahalanobis++' : 'mahalanobis++');
    const a = await plusPlus.score(queries.features);
    const b = await plain.score(l2NormalizeRows(queries.features, d));
    expect(Array.from(a)).toEqual(Array.from(b));
    // Normalisation matters: the raw-feature detector ranks these rows differently.
    const raw = await (relative ? detectors.relativeMahalanobis() : detectors.mahalanobis()).fit({ features: fit.features, labels: fit.labels, numClasses: c });
    expect(Array.from(await raw.score(queries.features))).not.toEqual(Array.from(a));
  });

  it('l2NormalizeRows refuses a zero, fractional or non-dividing dim instead of looping', () => {
    expect(() => l2NormalizeRows(new Float32Array(6), 0)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => l2NormalizeRows(new Float32Array(6), 0.5)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => l2NormalizeRows(new Float32Array(7), 2)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
  });
});
