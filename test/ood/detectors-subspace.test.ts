// ViM, Residual and NECO vs the float64 NumPy reference.
//
// Tolerances: the subspace fit and the projected norms run in float64; the energy / max-logit parts come from
// a float32 GEMM (see detectors-logits.test.ts), so 1e-5·(|s| + 1). Features have distinct covariance eigenvalues
// (anisotropic scales), so the principal subspace is well defined.
import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { oodReference } from '../helpers/ood-reference.js';
import { gaussian, rng } from '../helpers/random.js';

function data(n: number, d: number, seed: number, offset = 0): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n * d }, (_, k) => offset + (1 + (k % d)) * 0.3 * normal() + (k % d === 0 ? 1 : 0));
}

function expectClose(actual: Float64Array, expected: Float64Array, rel: number, abs: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    expect(Math.abs(actual[i] - e), `row ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const cases = [
  { n: 50, d: 2, C: 2, D: 1, m: 1 },
  { n: 503, d: 17, C: 3, D: 5, m: 67 },
  { n: 2003, d: 64, C: 10, D: 32, m: 4099 },
  { n: 40, d: 8, C: 20, D: 4, m: 9 }, // C > d: pinv of a wide head
];

describe('subspace detectors equal the float64 reference', () => {
  for (const { n, d, C, D, m } of cases) {
    const features = data(n, d, n + d);
    const x = data(m, d, m, 0.2);
    const normal = gaussian(rng(C + d));
    const weights = Float32Array.from({ length: C * d }, () => normal() / Math.sqrt(d));
    const bias = Float32Array.from({ length: C }, () => normal());
    const arrays = {
      features: { data: features, shape: [n, d] },
      x: { data: x, shape: [m, d] },
      weights: { data: weights, shape: [C, d] },
      bias: { data: bias, shape: [C] },
    };
    for (const [name, make, meta] of [
      ['vim', () => detectors.vim({ principalDim: D }), {}],
      ['residual', () => detectors.residual({ principalDim: D }), {}],
      ['neco', () => detectors.neco({ principalDim: D }), {}],
      ['neco', () => detectors.neco({ principalDim: D, multiplyMaxLogit: false }), { multiplyMaxLogit: false }],
    ] as const) {
      it(`${name} ${JSON.stringify(meta)} N=${n} d=${d} C=${C} D=${D} queries=${m}`, async () => {
        const det = await make().fit({ features, weights, bias, numClasses: C });
        const got = await det.score(x);
        const want = await oodReference({ detector: name, principalDim: D, ...meta }, arrays);
        expectClose(got, want, 1e-5, 1e-5);
      });
    }
  }

  it('vim without a bias uses the origin', async () => {
    const features = data(300, 6, 1);
    const weights = data(3, 6, 2);
    const det = await detectors.vim({ principalDim: 2 }).fit({ features, weights, numClasses: 3 });
    const want = await oodReference(
      { detector: 'vim', principalDim: 2 },
      { features: { data: features, shape: [300, 6] }, x: { data: features, shape: [300, 6] }, weights: { data: weights, shape: [3, 6] }, bias: { data: new Float32Array(3), shape: [3] } },
    );
    expectClose(await det.score(features), want, 1e-5, 1e-5);
  });
});
