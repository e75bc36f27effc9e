// fDBD and NCI vs the float64 NumPy reference. The logits come from a float32 GEMM (see detectors-logits.test.ts),
// so 1e-5·(|s| + 1); random continuous data makes argmax near-ties (which could pick another class) negligible.
import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { oodReference } from '../helpers/ood-reference.js';
import { gaussian, rng } from '../helpers/random.js';

function randn(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => offset + scale * normal());
}

function expectClose(actual: Float64Array, expected: Float64Array, rel: number, abs: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    expect(Math.abs(actual[i] - e), `row ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const cases = [
  { n: 3, d: 1, C: 2, m: 1 },
  { n: 101, d: 7, C: 3, m: 13 },
  { n: 997, d: 64, C: 10, m: 5003 }, // queries above the 4096-row block
  { n: 200, d: 33, C: 101, m: 61 },
];

describe('fDBD and NCI equal the float64 reference', () => {
  for (const { n, d, C, m } of cases) {
    const features = randn(n * d, n + d, 1, 0.5);
    const x = randn(m * d, m, 1.3);
    const weights = randn(C * d, C + 1, 1 / Math.sqrt(d));
    const bias = randn(C, C + 2, 0.3);
    const arrays = {
      features: { data: features, shape: [n, d] },
      x: { data: x, shape: [m, d] },
      weights: { data: weights, shape: [C, d] },
      bias: { data: bias, shape: [C] },
    };
    for (const [name, make, meta] of [
      ['fdbd', () => detectors.fdbd(), {}],
      ['nci', () => detectors.nci(), {}],
      ['nci', () => detectors.nci({ alpha: 0.01 }), { alpha: 0.01 }],
    ] as const) {
      it(`${name} ${JSON.stringify(meta)} N=${n} d=${d} C=${C} queries=${m}`, async () => {
        const det = await make().fit({ features, weights, bias, numClasses: C });
        const got = await det.score(x);
        const want = await oodReference({ detector: name, ...meta }, arrays);
        expectClose(got, want, 1e-5, 1e-5);
      });
    }
  }

  it('without a bias', async () => {
    const features = randn(60 * 5, 1);
    const weights = randn(4 * 5, 2);
    const want = await oodReference(
      { detector: 'fdbd' },
      { features: { data: features, shape: [60, 5] }, x: { data: features, shape: [60, 5] }, weights: { data: weights, shape: [4, 5] } },
    );
    const det = await detectors.fdbd().fit({ features, weights, numClasses: 4 });
    expectClose(await det.score(features), want, 1e-5, 1e-5);
  });
});
