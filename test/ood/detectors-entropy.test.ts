// The entropy detector, −H(softmax(z/T)), vs a 60-digit decimal reference (test/helpers/ood_reference.py): at the
// SIMD level this process runs (CI runs test/ood once per level the CPU supports, NCOD_SIMD capping it), on row
// lengths around every vector width and their tails, and on rows where a float64 formula that forms 1 − p or
// log Σ e^u directly would cancel: one dominant logit (H far below 1e-16), ±1e4 logits, all-equal logits.
//
// Tolerance: each exp term is within 2e-13 relative (native/cpu/exp_sum.h) and u = (z − m)/T carries one rounding,
// which e^u turns into |u|·1e-16 ≲ 1e-13; H is a sum of non-negative terms, so 1e-11 relative holds on every row.
// Terms below e^−708 count as e^−708 (exp_sum.h), so a row whose true H underflows scores about −C·1e-305, not 0:
// an absolute 1e-290 covers that.
import { describe, expect, it } from 'vitest';

import { detectors, simdInfo } from '../../lib/index.js';
import { oodReference } from '../helpers/ood-reference.js';
import { gaussian, rng } from '../helpers/random.js';

const ROW_KINDS = 8;

/** Row i of kind i % 8: the regimes where the entropy is hard to compute (see the header). */
function hardRows(n: number, C: number, seed: number): Float32Array {
  const normal = gaussian(rng(seed));
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * C, (i + 1) * C);
    const lead = i % C; // where a dominant logit sits, front to tail
    for (let c = 0; c < C; c++) {
      const z = normal();
      switch (i % ROW_KINDS) {
        case 0: row[c] = 30 * z; break; // terms from 1 down to e^−200 and below
        case 1: row[c] = z < 0 ? -1e4 : 1e4; break; // ±1e4: ties at the top, the rest underflows
        case 2: row[c] = 1e4 * z; break; // huge spread: one logit dominates by thousands
        case 3: row[c] = -7.25; break; // all equal: H = log C
        case 4: row[c] = c === lead ? 40 + z : z; break; // 1 − p ≈ C·e^−40: H ≈ 1e-16
        case 5: row[c] = c === lead ? 700 + z : z; break; // H ≈ e^−700: only a relative formula resolves it
        case 6: row[c] = 1e4 + 0.01 * z; break; // large and close: z − m must be formed in float64
        default: row[c] = 4 * z; break;
      }
    }
  }
  return out;
}

function expectClose(actual: Float64Array, expected: Float64Array, rel: number, abs: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    expect(Math.abs(actual[i] - e), `row ${i} (kind ${i % ROW_KINDS}): ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const level = simdInfo().level;

describe(`entropy equals the 60-digit reference at SIMD level ${level}`, () => {
  for (const C of [1, 2, 3, 15, 16, 17, 33, 1000]) {
    const n = 4 * ROW_KINDS;
    const logits = hardRows(n, C, 11 * C + 3);
    for (const temperature of [1, 0.05, 3.5]) {
      it(`C=${C} T=${temperature}`, async () => {
        const got = await detectors.entropy({ temperature }).score({ logits, numClasses: C });
        const want = await oodReference({ detector: 'entropy', temperature }, { logits: { data: logits, shape: [n, C] } });
        expectClose(got, want, 1e-11, 1e-290);
        for (const s of got) expect(s).toBeLessThanOrEqual(0);
      });
    }
  }

  it('all-equal logits score −log C, a single class 0', async () => {
    for (const C of [1, 2, 3, 16, 17, 1000]) {
      const got = await detectors.entropy().score({ logits: new Float32Array(2 * C).fill(3), numClasses: C });
      for (const s of got) expect(Math.abs(s + Math.log(C))).toBeLessThanOrEqual(2e-16 * Math.log(C));
    }
  });

  it('a dominant logit keeps H relative: −H ≈ −(C − 1)·e^−a·(a + 1) for logits (a, 0, …, 0)', async () => {
    for (const a of [40, 100, 300, 700]) {
      const C = 17;
      const logits = new Float32Array(C);
      logits[C - 1] = a; // the maximum in the tail element
      const [got] = await detectors.entropy().score({ logits, numClasses: C });
      const r = (C - 1) * Math.exp(-a);
      const want = -(Math.log1p(r) + (a * r) / (1 + r));
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-13 * Math.abs(want));
    }
  });

  it('through a linear head it scores the head\'s logits', async () => {
    const normal = gaussian(rng(5));
    const n = 300, d = 33, C = 17;
    const features = Float32Array.from({ length: n * d }, () => normal());
    const weights = Float32Array.from({ length: C * d }, () => normal());
    const bias = Float32Array.from({ length: C }, () => normal());
    const got = await detectors.entropy().score({ features, weights, bias, numClasses: C });
    const want = await oodReference({ detector: 'entropy' }, { features: { data: features, shape: [n, d] }, weights: { data: weights, shape: [C, d] }, bias: { data: bias, shape: [C] } });
    // The head's float32 GEMM (see detectors-logits.test.ts): about 1e-6 on logits of scale √d.
    expectClose(got, want, 1e-4, 1e-4);
  });

  it('a row with NaN or ±inf is ERR_NOT_FINITE naming the element', async () => {
    const logits = Float32Array.from([0, 1, 2, 3, Number.POSITIVE_INFINITY, 5]); // row 1, column 1
    await expect(detectors.entropy().score({ logits, numClasses: 3 })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE', message: expect.stringContaining('logits[1, 1]') });
  });

  it('temperature must be a finite number > 0 (ERR_INVALID_ARGUMENT)', () => {
    for (const t of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1']) {
      expect(() => detectors.entropy({ temperature: t as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});
