import { describe, expect, it } from 'vitest';

import { NC_METRIC_KEYS, ncMetrics, ncMetricsByLayer } from '../../lib/index.js';
import { ncReference, unbalanced } from '../helpers/nc-reference.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const KEYS = NC_METRIC_KEYS;

/** |a − e| ≤ 1e-4·|e|, with an absolute floor for quantities that are exactly zero in theory (C = 2). */
function expectClose(actual: number | null, expected: number | null, key: string) {
  if (expected === null) return expect(actual, `${key} (the reference's is undefined)`).toBeNull();
  expect(actual, key).not.toBeNull();
  expect(Math.abs(actual! - expected), `${key}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-9);
}

/** A classifier near the class means (like a trained probe), so NC3/NC4 are non-trivial. */
function probeLike(features: Float32Array, labels: Int32Array, dim: number, C: number, seed: number) {
  const normal = gaussian(rng(seed));
  const weights = new Float32Array(C * dim);
  const counts = new Float64Array(C);
  for (let i = 0; i < labels.length; i++) {
    counts[labels[i]]++;
    for (let j = 0; j < dim; j++) weights[labels[i] * dim + j] += features[i * dim + j];
  }
  for (let k = 0; k < weights.length; k++) weights[k] = weights[k] / Math.max(counts[Math.floor(k / dim)], 1) + 0.3 * normal();
  const bias = Float32Array.from({ length: C }, () => normal());
  return { weights, bias };
}

const grid = [
  { C: 2, dim: 1, n: 301 },
  { C: 2, dim: 2048, n: 400 },
  { C: 5, dim: 3, n: 997 },
  { C: 5, dim: 257, n: 1200 },
  { C: 10, dim: 1, n: 503 },
  { C: 10, dim: 7, n: 1500 },
  { C: 10, dim: 512, n: 2000 },
  { C: 10, dim: 2048, n: 1500 },
  { C: 100, dim: 64, n: 3001 },
  { C: 100, dim: 701, n: 2500 },
];

describe('ncMetrics equals the float64 NumPy reference', () => {
  for (const { C, dim, n } of grid) {
    it(`C=${C} d=${dim} N=${n}${dim < C ? ' (d < C)' : ''}`, async () => {
      const { features, labels } = clusters(n, dim, C, C * 1000 + dim, { separation: 2, shift: 0.5 });
      const { weights, bias } = probeLike(features, labels, dim, C, dim);
      const ood = clusters(211, dim, 3, 99 + dim, { shift: 1 }).features;
      const input = { features, labels, numClasses: C, weights, bias, oodFeatures: ood };
      const [got, ref] = await Promise.all([ncMetrics(input), ncReference({ ...input, dim })]);
      expect(got).toMatchObject({ n, dim, classes: C });
      expect(got.rank).toBe(Math.min(dim, C - 1));
      for (const key of KEYS) expectClose(got[key], ref[key], key);
    });
  }

  it('the sample-weighted global mean option', async () => {
    const { features, labels } = clusters(900, 31, 6, 4);
    // Unbalanced: drop most of class 0 so weighted and unweighted global means differ.
    const { features: f, labels: l } = unbalanced(features, labels, 31, 7);
    const { weights, bias } = probeLike(f, l, 31, 6, 5);
    const input = { features: f, labels: l, numClasses: 6, weights, bias, weightedGlobalMean: true };
    const [got, ref, unweighted] = await Promise.all([ncMetrics(input), ncReference({ ...input, dim: 31 }), ncMetrics({ ...input, weightedGlobalMean: false })]);
    for (const key of ['nc1', 'nc1_quotient', 'nc2_etf_error_means', 'nc3_self_duality', 'nc4_bias_relation'] as const) {
      expectClose(got[key], ref[key], key);
    }
    expect(unweighted.nc1).not.toBeCloseTo(got.nc1!, 6);
  });

  it('nc1 stays exact when d ≫ C, where a full pseudo-inverse of the d×d Σ_B is wrong', async () => {
    const dim = 2048;
    const { features, labels } = clusters(600, dim, 3, 11, { separation: 1, shift: 3 });
    const [got, ref] = await Promise.all([
      ncMetrics({ features, labels, numClasses: 3 }),
      ncReference({ features, labels, dim, numClasses: 3, naive: true }),
    ]);
    expect(got.rank).toBe(2);
    expectClose(got.nc1, ref.nc1, 'nc1');
    // The reference code's route (float32 Σ_B, pinv at default tolerance) inverts rounding noise.
    expect(Math.abs(ref.nc1_naive_full_pinv - ref.nc1) / ref.nc1).toBeGreaterThan(1);
  });

  it('metrics without weights or OOD features are null', async () => {
    const { features, labels } = clusters(100, 4, 3, 2);
    const got = await ncMetrics({ features, labels, numClasses: 3 });
    for (const key of ['nc2_equinorm_weights', 'nc3_self_duality', 'nc4_ncc_agreement', 'nc5_ood_orthogonality'] as const) {
      expect(got[key]).toBeNull();
    }
    expect(got.nc1).toBeGreaterThan(0);
  });

  it('layer by layer gives one row per layer', async () => {
    const a = clusters(300, 8, 4, 1);
    const b = clusters(300, 16, 4, 1);
    const rows = await ncMetricsByLayer(
      [
        { name: 'enc1', features: a.features },
        { name: 'enc2', features: b.features },
      ],
      { labels: a.labels, numClasses: 4 },
    );
    expect(rows.map((r) => [r.layer, r.dim])).toEqual([
      ['enc1', 8],
      ['enc2', 16],
    ]);
  });
});

describe('ncMetrics on real features (Fashion-MNIST test set)', () => {
  it('pixels and a random ReLU layer match the NumPy reference; a linear classifier gives NC3/NC4', async () => {
    const { loadFashionMnist } = await import('../../lib/data/index.js');
    const images = await loadFashionMnist('test');
    const n = 4000; // a slice keeps the NumPy reference quick
    const pixels = images.features.subarray(0, n * images.dim);
    const labels = images.labels.subarray(0, n);
    // A fixed random ReLU layer 784 → 300: features of a (random) network on real data.
    const normal = gaussian(rng(1));
    const width = 300;
    const w1 = Float32Array.from({ length: images.dim * width }, () => normal() / Math.sqrt(images.dim));
    const hidden = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < width; k++) {
        let s = 0;
        for (let j = 0; j < images.dim; j++) s += pixels[i * images.dim + j] * w1[j * width + k];
        hidden[i * width + k] = Math.max(0, s);
      }
    }
    for (const [features, dim] of [[pixels, images.dim], [hidden, width]] as const) {
      const { weights, bias } = probeLike(features, labels, dim, 10, 3);
      const input = { features, labels, numClasses: 10, weights, bias };
      const [got, ref] = await Promise.all([ncMetrics(input), ncReference({ ...input, dim })]);
      for (const key of KEYS.filter((k) => k !== 'nc5_ood_orthogonality')) expectClose(got[key], ref[key], key);
    }
  });
});
