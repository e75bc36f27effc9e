// MSP, MaxLogit, Energy, GEN and ReAct vs the float64 NumPy reference (test/helpers/ood_reference.py).
//
// Tolerances: from logits, every step runs in float64 on the exact float32 inputs, so 1e-9 relative covers
// the different summation orders. Through a linear head the logits come from a float32 GEMM (error ~ √d·ε₃₂·Σ|x_j w_j|,
// about 1e-6 at d = 257 with logits of unit scale), so those compare to 1e-5·(|s| + 1).
import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { oodReference } from '../helpers/ood-reference.js';
import { gaussian, rng } from '../helpers/random.js';

function randn(n: number, seed: number, scale = 1): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => scale * normal());
}

function expectClose(actual: Float64Array, expected: Float64Array, rel: number, abs: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    expect(Math.abs(actual[i] - e), `row ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const logitCases = [
  { n: 1, C: 2 },
  { n: 7, C: 1 },
  { n: 257, C: 3 },
  { n: 1031, C: 10 },
  { n: 2003, C: 101 }, // GEN's default M = 100 < C
  { n: 97, C: 1000 },
];

const kinds = [
  { name: 'msp', make: () => detectors.msp(), meta: {} },
  { name: 'maxLogit', make: () => detectors.maxLogit(), meta: {} },
  { name: 'energy', make: () => detectors.energy(), meta: {} },
  { name: 'energy', make: () => detectors.energy({ temperature: 3.5 }), meta: { temperature: 3.5 } },
  { name: 'gen', make: () => detectors.gen(), meta: {} },
  { name: 'gen', make: () => detectors.gen({ gamma: 0.5, topM: 1 }), meta: { gamma: 0.5, topM: 1 } },
] as const;

describe('logit detectors equal the float64 reference', () => {
  for (const { n, C } of logitCases) {
    for (const k of kinds) {
      it(`${k.name} ${JSON.stringify(k.meta)} N=${n} C=${C}`, async () => {
        const logits = randn(n * C, n * 31 + C, 4);
        const got = await k.make().score({ logits, numClasses: C });
        const want = await oodReference({ detector: k.name, ...k.meta }, { logits: { data: logits, shape: [n, C] } });
        expectClose(got, want, 1e-9, 1e-12);
      });
    }
  }

  it('large logits do not overflow (max subtraction)', async () => {
    const logits = Float32Array.from([1e30, -1e30, 1e30, 3e38, 3e38, 0]);
    for (const d of [detectors.msp(), detectors.energy(), detectors.gen()]) {
      const s = await d.score({ logits, numClasses: 3 });
      expect(Array.from(s).every(Number.isFinite)).toBe(true);
    }
  });
});

const linearCases = [
  { n: 1, d: 1, C: 2 },
  { n: 131, d: 7, C: 3 },
  { n: 5003, d: 64, C: 10 }, // N above the 4096-row block
  { n: 509, d: 257, C: 100 },
];

// Rows that reach every path of the vectorised kernels: lengths around the vector widths (8 float64, 16 float32,
// 32 per unrolled step) and their tails, and values where exp() underflows, is clamped, or ties.
function awkwardLogits(n: number, C: number, seed: number): Float32Array {
  const normal = gaussian(rng(seed));
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const row = out.subarray(i * C, (i + 1) * C);
    for (let c = 0; c < C; c++) {
      const z = normal();
      switch (i % 8) {
        case 0: row[c] = 4 * z; break;
        case 1: row[c] = 1e4 * z; break; // huge spread: almost every term underflows
        case 2: row[c] = 1e4 + 0.01 * z; break; // large and close: cancellation in z − max
        case 3: row[c] = c % 3 === 0 ? 4 * z : -3e38; break; // −inf-ish entries beside ordinary ones
        case 4: row[c] = 2.5; break; // all tied
        case 5: row[c] = 30 * z; break; // terms down to exp(−200) and below
        case 6: row[c] = c === C - 1 ? 50 : -1e4 * Math.abs(z); break; // the maximum in the last (tail) element
        default: row[c] = -1e4 + 0.5 * z; break; // all far below zero
      }
    }
  }
  return out;
}

describe('logit detectors on awkward row lengths and extreme values equal the float64 reference', () => {
  const awkwardKinds = [
    ...kinds,
    { name: 'energy', make: () => detectors.energy({ temperature: 0.05 }), meta: { temperature: 0.05 } },
  ] as const;
  for (const C of [1, 2, 7, 15, 16, 17, 31, 33, 1000, 1001]) {
    const n = 40;
    const logits = awkwardLogits(n, C, 7 * C + 1);
    for (const k of awkwardKinds) {
      it(`${k.name} ${JSON.stringify(k.meta)} N=${n} C=${C}`, async () => {
        const got = await k.make().score({ logits, numClasses: C });
        const want = await oodReference({ detector: k.name, ...k.meta }, { logits: { data: logits, shape: [n, C] } });
        expectClose(got, want, 1e-9, 1e-12);
      });
    }
  }
});

// GEN's (1 − p)^γ for the most probable class: where 1 − p lies below float64's resolution near 1, forming it as
// 1 − p returns rounding noise or 0 (the score then depends on the summation order of Σ). Compared with a purely
// relative tolerance, so a term rounded to 0 fails.
describe('GEN where 1 − p of the top class is below 1e-12 equals the float64 reference', () => {
  function dominantLogits(n: number, C: number, seed: number): Float32Array {
    const normal = gaussian(rng(seed));
    const out = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      const lead = [30, 40, 60, 200, 800, 1200][i % 6]; // 1 − p ≈ (C − 1)·e^−lead: 1e-13 down to far below 1e-308
      for (let c = 0; c < C; c++) out[i * C + c] = c === i % C ? lead + normal() : normal();
    }
    return out;
  }
  for (const C of [2, 3, 16, 17, 101]) {
    const n = 24;
    const logits = dominantLogits(n, C, C);
    for (const meta of [{}, { gamma: 0.5, topM: 1 }, { gamma: 0.1, topM: 2 }]) {
      it(`gen ${JSON.stringify(meta)} N=${n} C=${C}`, async () => {
        const got = await detectors.gen(meta).score({ logits, numClasses: C });
        const want = await oodReference({ detector: 'gen', ...meta }, { logits: { data: logits, shape: [n, C] } });
        for (let i = 0; i < n; i++) expect(want[i]).toBeLessThan(0); // the reference itself resolves every row
        expectClose(got, want, 1e-9, 0);
      });
    }
  }
});

describe('linear-head and ReAct scores equal the float64 reference', () => {
  for (const { n, d, C } of linearCases) {
    const features = randn(n * d, n + d, 1);
    const weights = randn(C * d, C + d, 1 / Math.sqrt(d));
    const bias = randn(C, C, 0.5);
    for (const k of kinds) {
      it(`${k.name} ${JSON.stringify(k.meta)} N=${n} d=${d} C=${C}`, async () => {
        const got = await k.make().score({ features, weights, bias, numClasses: C });
        const want = await oodReference(
          { detector: k.name, ...k.meta },
          { features: { data: features, shape: [n, d] }, weights: { data: weights, shape: [C, d] }, bias: { data: bias, shape: [C] } },
        );
        expectClose(got, want, 1e-5, 1e-5);
      });
    }
    it(`react (90th percentile, T = 2) N=${n} d=${d} C=${C}`, async () => {
      const react = await detectors.react({ temperature: 2 }).fit({ features });
      const sorted = Float64Array.from(features).sort();
      const pos = 0.9 * (sorted.length - 1);
      const lo = Math.floor(pos);
      const clip = sorted[lo] + (pos - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
      expect(react.clip).toBeCloseTo(clip, 12);
      const got = await react.score({ features, weights, numClasses: C });
      const want = await oodReference(
        { detector: 'react', temperature: 2, clip: Math.fround(clip) },
        { features: { data: features, shape: [n, d] }, weights: { data: weights, shape: [C, d] } },
      );
      expectClose(got, want, 1e-5, 1e-5);
    });
  }

  it('react with a fixed clip equals energy on clipped features', async () => {
    const features = randn(300 * 5, 9);
    const weights = randn(4 * 5, 10);
    const clipped = features.map((v) => Math.min(v, 0.5));
    const a = await detectors.react({ clip: 0.5 }).score({ features, weights, numClasses: 4 });
    const b = await detectors.energy().score({ features: clipped, weights, numClasses: 4 });
    expectClose(a, b, 1e-12, 0);
  });
});
