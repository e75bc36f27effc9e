// GNC2 and UNC3 (native/core/nc_uniformity.cpp, through ncMetrics and the accumulator) against the float64 NumPy reference on awkward sizes and
// extreme values, their exact zeros on a simplex ETF, and the streaming path against the in-memory one.
import { describe, expect, it } from 'vitest';

import { ncMetrics } from '../../lib/index.js';
import { ncReference, unbalanced } from '../helpers/nc-reference.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const KEYS = ['gnc2_hyperspherical_uniformity', 'unc3_uniform_duality'] as const;

function expectClose(actual: number | null, expected: number | null, key: string, tolerance = 1e-9) {
  if (expected === null) return expect(actual, key).toBeNull();
  expect(actual, key).not.toBeNull();
  expect(Math.abs(actual! - expected), `${key}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance * Math.abs(expected) + 1e-12);
}

/** Classifier rows = class means + noise, so the cosines differ from class to class (UNC3 > 0). */
function noisyWeights(C: number, dim: number, features: Float32Array, labels: Int32Array, seed: number, noise = 0.5): Float32Array {
  const normal = gaussian(rng(seed));
  const w = new Float32Array(C * dim);
  const counts = new Float64Array(C);
  labels.forEach((c, i) => {
    counts[c]++;
    for (let j = 0; j < dim; j++) w[c * dim + j] += features[i * dim + j];
  });
  for (let k = 0; k < w.length; k++) w[k] = w[k] / counts[Math.floor(k / dim)] + noise * normal();
  return w;
}

function scaled(a: Float32Array, s: number): Float32Array {
  return a.map((x) => x * s);
}

async function compare(features: Float32Array, labels: Int32Array, C: number, dim: number, weights?: Float32Array, weightedGlobalMean = false) {
  const input = { features, labels, numClasses: C, weights, weightedGlobalMean };
  const [got, ref] = await Promise.all([ncMetrics(input), ncReference({ ...input, dim })]);
  for (const key of KEYS) expectClose(got[key], ref[key] ?? null, key);
  return got;
}

describe('GNC2 and UNC3 equal the float64 NumPy reference', () => {
  const sizes = [
    { C: 2, dim: 5, n: 101, note: 'C = 2: one pair, antipodal centred means, GNC2 = 0' },
    { C: 3, dim: 2, n: 97, note: 'C = 3 in the plane' },
    { C: 3, dim: 129, n: 300, note: 'C = 3' },
    { C: 40, dim: 7, n: 803, note: 'C > d' },
    { C: 17, dim: 300, n: 1001, note: 'C < d, odd sizes' },
  ];
  for (const { C, dim, n, note } of sizes) {
    it(`C=${C} d=${dim} N=${n} (${note})`, async () => {
      const { features, labels } = clusters(n, dim, C, C * 31 + dim, { separation: 2, shift: 0.7 });
      const weights = noisyWeights(C, dim, features, labels, dim);
      const got = await compare(features, labels, C, dim, weights);
      if (C === 2) expect(got.gnc2_hyperspherical_uniformity).toBeLessThan(1e-12);
      else expect(got.gnc2_hyperspherical_uniformity).toBeGreaterThan(1e-3);
      expect(got.unc3_uniform_duality).toBeGreaterThan(1e-3);
    });
  }

  it('the sample-weighted global mean, on unbalanced classes', async () => {
    const { features, labels } = clusters(700, 9, 5, 3);
    const { features: f, labels: l } = unbalanced(features, labels, 9, 9);
    const weights = noisyWeights(5, 9, f, l, 8);
    const weighted = await compare(f, l, 5, 9, weights, true);
    const unweighted = await compare(f, l, 5, 9, weights, false);
    expect(weighted.gnc2_hyperspherical_uniformity).not.toBeCloseTo(unweighted.gnc2_hyperspherical_uniformity!, 6);
  });

  it('nearly equal class means: the kernel is large and its spread still exact', async () => {
    const dim = 6;
    const C = 4;
    const { features, labels } = clusters(400, dim, C, 12, { separation: 1e-3, shift: 5 });
    const got = await compare(features, labels, C, dim, noisyWeights(C, dim, features, labels, 2, 1e-4));
    expect(got.gnc2_hyperspherical_uniformity).toBeGreaterThan(0);
  });

  it('extreme scales (1e-30 and 1e30) give the scale-free values of the unscaled features', async () => {
    const dim = 11;
    const C = 6;
    const { features, labels } = clusters(500, dim, C, 21);
    const weights = noisyWeights(C, dim, features, labels, 4);
    const base = await compare(features, labels, C, dim, weights);
    for (const s of [1e-30, 1e30]) {
      const got = await compare(scaled(features, s), labels, C, dim, scaled(weights, 1 / s));
      // Both are invariant to scaling the features (and, for UNC3, the weights): only float32 rounding of the
      // scaled inputs differs.
      for (const key of KEYS) expectClose(got[key], base[key], `${key} at scale ${s}`, 1e-5);
    }
  });

  it('coinciding normalised means (d = 1, C = 4) leave GNC2 undefined: null, as in the reference', async () => {
    const { features, labels } = clusters(200, 1, 4, 5);
    const got = await compare(features, labels, 4, 1);
    expect(got.gnc2_hyperspherical_uniformity).toBeNull();
    expect(got.unc3_uniform_duality).toBeNull(); // no weights
  });
});

describe('GNC2 and UNC3 at collapse', () => {
  it('are 0 on a simplex ETF with self-dual classifiers, and UNC3 ignores the classifier rows’ norms', async () => {
    // The C vertices of a simplex ETF in R^C: e_c − 1/C, each class a single repeated point (NC1 = 0).
    const C = 5;
    const dim = C;
    const perClass = 3;
    const features = new Float32Array(C * perClass * dim);
    const labels = new Int32Array(C * perClass);
    for (let i = 0; i < C * perClass; i++) {
      const c = i % C;
      labels[i] = c;
      for (let j = 0; j < dim; j++) features[i * dim + j] = (j === c ? 1 : 0) - 1 / C + 2; // + 2: μ_G is removed
    }
    const weights = new Float32Array(C * dim);
    for (let c = 0; c < C; c++) for (let j = 0; j < dim; j++) weights[c * dim + j] = (c + 1) * ((j === c ? 1 : 0) - 1 / C);
    const got = await ncMetrics({ features, labels, numClasses: C, weights });
    expect(got.gnc2_hyperspherical_uniformity).toBeLessThan(1e-6);
    expect(got.unc3_uniform_duality).toBeLessThan(1e-6);
  });
});

describe('GNC2 and UNC3 streamed', () => {
  it('batches (and a one-pass generator) equal the in-memory values', async () => {
    const dim = 13;
    const C = 7;
    const { features, labels } = clusters(1003, dim, C, 9);
    const weights = noisyWeights(C, dim, features, labels, 1);
    const whole = await ncMetrics({ features, labels, numClasses: C, weights });
    const cuts = [0, 1, 400, 777, 1003];
    const batches = cuts.slice(1).map((end, k) => ({ features: features.subarray(cuts[k] * dim, end * dim), labels: labels.subarray(cuts[k], end) }));
    const streamed = await ncMetrics({ batches, numClasses: C, weights });
    const generated = await ncMetrics({ batches: (function* () { yield* batches; })(), numClasses: C, weights });
    for (const key of KEYS) {
      expectClose(streamed[key], whole[key], key, 1e-12);
      expectClose(generated[key], whole[key], key, 1e-12);
    }
  });
});
