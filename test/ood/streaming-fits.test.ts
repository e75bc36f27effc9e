// Detector fits from batches ({ batches } in place of features/labels) against the in-memory fits on the same data.
//
// Tolerance: both fits derive their models in float64 from float32 data; the batch fit from moments about the first
// batch's mean (S − Σ s sᵀ/n), the array fit from scatter about the exact means, so they agree to float64 rounding
// amplified by the covariance's condition: 1e-9 relative is far above that and far below any real discrepancy.
// The in-memory fits themselves are checked against float64 NumPy references in detectors-*.test.ts; ReAct's
// percentile and fDBD/NCI's mean are checked here against a float64 reference directly.
import { describe, expect, it } from 'vitest';

import { detectors, type Detector } from '../../lib/index.js';
import type { FeatureBatch } from '../../lib/data/batches.js';
import { native } from '../../lib/native.js';
import { oodReference } from '../helpers/ood-reference.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const N = 211;
const D = 13;
const C = 5;
const { features, labels } = clusters(N, D, C, 7, { shift: 4 });
const test = clusters(37, D, C, 8, { shift: 4, separation: 2 }).features;
const normal = gaussian(rng(11));
const weights = Float32Array.from({ length: C * D }, () => normal() / Math.sqrt(D));
const bias = Float32Array.from({ length: C }, () => normal());
const head = { weights, bias, numClasses: C };

/** Batches of the given sizes, cycling (1 row, primes: most batches miss some classes). */
function cut(sizes: number[], withLabels = true, x = features, y = labels, dim = D): FeatureBatch[] {
  const out: FeatureBatch[] = [];
  const n = x.length / dim;
  for (let r = 0, k = 0; r < n; k++) {
    const s = Math.min(sizes[k % sizes.length], n - r);
    out.push({ features: x.subarray(r * dim, (r + s) * dim), labels: withLabels ? y.subarray(r, r + s) : undefined });
    r += s;
  }
  return out;
}

const AWKWARD = [1, 7, 13, 2, 31];
const OTHER = [97, 3, 1, 53];

/** A one-pass source: an async generator. */
async function* once(batches: FeatureBatch[]) {
  for (const b of batches) yield b;
}

/** A re-iterable source that aborts `controller` once `after` batches (over all passes) have been handed out. */
function abortingAfter(batches: FeatureBatch[], controller: AbortController, after: number) {
  let k = 0;
  return async function* () {
    for (const b of batches) {
      if (k++ === after) controller.abort();
      yield b;
    }
  };
}

// ViM: relative to the largest score of the set, since a score is energy − α·residual, a difference of larger terms.
const VIM_REL = { rel: 1e-8, ofLargest: true };

function expectClose(actual: Float64Array, expected: Float64Array, tolerance: number | { rel: number; ofLargest: boolean } = 1e-9) {
  expect(actual.length).toBe(expected.length);
  const { rel, ofLargest } = typeof tolerance === 'number' ? { rel: tolerance, ofLargest: false } : tolerance;
  const largest = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    const scale = ofLargest ? largest : Math.abs(e);
    expect(Math.abs(actual[i] - e), `row ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.max(scale, 1e-300));
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toMatchObject({ code });
}

type Fittable = Detector<Float32Array> & { fit(input: object, run?: object): Promise<Fittable> };

interface Case {
  name: string;
  make: () => Fittable;
  array: object;
  batches: (b: FeatureBatch[] | (() => AsyncIterable<FeatureBatch>) | AsyncIterable<FeatureBatch>) => object;
  labelled: boolean;
  passes: 1 | 2;
  /** Tolerance against the array fit (default 1e-9 relative per row). */
  rel?: number | { rel: number; ofLargest: boolean };
}

const cases: Case[] = [
  ...(['mahalanobis', 'relativeMahalanobis', 'mahalanobisPlusPlus', 'relativeMahalanobisPlusPlus'] as const).map(
    (m): Case => ({
      name: m,
      make: () => detectors[m]() as never,
      array: { features, labels, numClasses: C },
      batches: (batches) => ({ batches, numClasses: C }),
      labelled: true,
      passes: 1,
    }),
  ),
  // ViM's α divides the mean train max-logit by the mean train residual norm, the small part of x − u outside the
  // principal space, so the two fits' float64 rounding is amplified there: at NCOD_SIMD=portable the array and batch
  // fits' scores differ by up to 4.7e-9, and so do two batchings: α averages per-row residual norms from the float32
// whitened-distance kernel, whose portable path rounds a row differently with the size of the block it lands in
// (1e-12 at avx2). Hence 1e-8 of the largest score for ViM.
  { name: 'vim', make: () => detectors.vim({ principalDim: 4 }) as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 2, rel: VIM_REL },
  { name: 'residual', make: () => detectors.residual({ principalDim: 4 }) as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 1 },
  { name: 'neco', make: () => detectors.neco({ principalDim: 6 }) as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 1 },
  { name: 'fdbd', make: () => detectors.fdbd() as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 1 },
  { name: 'nci', make: () => detectors.nci({ alpha: 0.01 }) as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 1 },
  { name: 'react', make: () => detectors.react({ percentile: 85 }) as never, array: { features, ...head }, batches: (batches) => ({ batches, ...head }), labelled: false, passes: 2 },
];

describe('fits from batches equal the in-memory fits', () => {
  for (const c of cases) {
    it(`${c.name}: awkward batch sizes (1 row, primes, missing classes) and two batchings`, async () => {
      const expected = await (await c.make().fit(c.array)).score(test);
      const one = await c.make().fit(c.batches(cut(AWKWARD, c.labelled)));
      const two = await c.make().fit(c.batches(() => once(cut(OTHER, c.labelled))));
      expectClose(await one.score(test), expected, c.rel);
      expectClose(await two.score(test), await one.score(test), c.rel ?? 1e-12);
      // The batch digest does not depend on the batching (and is documented to differ from the array fit's).
      expect(one.fitDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(two.fitDigest).toBe(one.fitDigest);
      expect(one.fitDigest).not.toBe((await c.make().fit(c.array)).fitDigest);
    });

    it(`${c.name}: a one-pass generator is ${c.passes === 2 ? 'refused (two passes needed)' : 'enough'}`, async () => {
      const fit = c.make().fit(c.batches(once(cut(AWKWARD, c.labelled))));
      if (c.passes === 2) {
        await expect(fit).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('re-iterable') });
      } else {
        expectClose(await (await fit).score(test), await (await c.make().fit(c.array)).score(test), c.rel);
      }
    });

    it(`${c.name}: abort between batches is ERR_ABORTED`, async () => {
      const batches = cut(AWKWARD, c.labelled);
      for (const after of c.passes === 2 ? [2, batches.length + 3] : [2]) {
        const controller = new AbortController();
        const source = abortingAfter(batches, controller, after); // the second: in the second pass
        await rejectsWith(c.make().fit(c.batches(source), { signal: controller.signal }), 'ERR_ABORTED');
      }
    });

    it(`${c.name}: bad batches are ERR_SHAPE / ERR_NOT_FINITE`, async () => {
      const batches = cut(AWKWARD, c.labelled);
      const wrongDim = [...batches.slice(0, 2), { ...batches[2], features: batches[2].features.subarray(1) }];
      await rejectsWith(c.make().fit(c.batches(wrongDim)), 'ERR_SHAPE');
      if (c.labelled) {
        const wrongLabels = [...batches.slice(0, 2), { ...batches[2], labels: batches[2].labels!.subarray(1) }];
        await rejectsWith(c.make().fit(c.batches(wrongLabels)), 'ERR_SHAPE');
        await rejectsWith(c.make().fit(c.batches([{ features: batches[0].features }])), 'ERR_INVALID_ARGUMENT'); // labels missing
      }
      const nan = Float32Array.from(batches[3].features);
      nan[5] = NaN;
      await rejectsWith(c.make().fit(c.batches([...batches.slice(0, 3), { ...batches[3], features: nan }])), 'ERR_NOT_FINITE');
      await rejectsWith(c.make().fit(c.batches([])), 'ERR_SHAPE'); // no rows at all
    });
  }
});

describe('fits from batches equal the float64 NumPy reference', () => {
  // The tolerances of detectors-distance/subspace.test.ts: float64 fits, float32 GEMMs for ViM's energy part.
  const arrays = {
    features: { data: features, shape: [N, D] },
    labels: { data: labels, shape: [N] },
    weights: { data: weights, shape: [C, D] },
    bias: { data: bias, shape: [C] },
    x: { data: test, shape: [test.length / D, D] },
  };
  const refCases = [
    { name: 'mahalanobis', meta: { numClasses: C, ridge: 1e-6 }, fit: () => detectors.mahalanobis().fit({ batches: cut(AWKWARD), numClasses: C }) },
    { name: 'relativeMahalanobis', meta: { numClasses: C, ridge: 1e-6 }, fit: () => detectors.relativeMahalanobis().fit({ batches: cut(AWKWARD), numClasses: C }) },
    { name: 'vim', meta: { principalDim: 4 }, fit: () => detectors.vim({ principalDim: 4 }).fit({ batches: cut(AWKWARD, false), ...head }) },
    { name: 'neco', meta: { principalDim: 6 }, fit: () => detectors.neco({ principalDim: 6 }).fit({ batches: cut(AWKWARD, false), ...head }) },
    { name: 'nci', meta: { alpha: 0.01 }, fit: () => detectors.nci({ alpha: 0.01 }).fit({ batches: cut(AWKWARD, false), ...head }) },
  ];
  for (const r of refCases) {
    it(r.name, async () => {
      const got = await (await r.fit()).score(test);
      const want = await oodReference({ detector: r.name, ...r.meta }, arrays);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `row ${i}`).toBeLessThanOrEqual(1e-5 * (Math.abs(want[i]) + 1));
    });
  }
});

describe('fits from batches: details', () => {
  it('a class with no rows in any batch is ERR_EMPTY_CLASS; labels out of range ERR_LABEL_RANGE', async () => {
    const y = labels.map((v) => (v === 3 ? 2 : v));
    await rejectsWith(detectors.mahalanobis().fit({ batches: cut(AWKWARD, true, features, y), numClasses: C }), 'ERR_EMPTY_CLASS');
    await rejectsWith(detectors.mahalanobis().fit({ batches: cut(AWKWARD), numClasses: C - 1 }), 'ERR_LABEL_RANGE');
    await rejectsWith(detectors.mahalanobis().fit({ batches: cut(AWKWARD), numClasses: 1 }), 'ERR_LABEL_RANGE');
  });

  it('fits that take no labels ignore the labels batches carry', async () => {
    for (const [make, rel] of [[() => detectors.vim({ principalDim: 4 }), VIM_REL], [() => detectors.neco({ principalDim: 4 }), 1e-9], [() => detectors.nci(), 1e-9]] as const) {
      const expected = await (await make().fit({ features, ...head })).score(test);
      expectClose(await (await make().fit({ batches: cut(AWKWARD, true), ...head })).score(test), expected, rel);
    }
    const react = await detectors.react().fit({ batches: cut(AWKWARD, true), ...head });
    expect(react.clip).toBe((await detectors.react().fit({ features })).clip);
  });

  it('one class (numClasses 1) and an explicit dim', async () => {
    const zeros = new Int32Array(N);
    const expected = await (await detectors.relativeMahalanobis().fit({ features, labels: zeros, numClasses: 1 })).score(test);
    const fitted = await detectors.relativeMahalanobis().fit({ batches: cut(AWKWARD, true, features, zeros), numClasses: 1, dim: D });
    expectClose(await fitted.score(test), expected);
  });

  it('ViM: α equals the array fit; a source that changes between passes is refused', async () => {
    const a = await detectors.vim({ principalDim: 3 }).fit({ features, ...head });
    const b = await detectors.vim({ principalDim: 3 }).fit({ batches: cut(AWKWARD, false), ...head });
    expect(Math.abs(b.alpha! - a.alpha!)).toBeLessThanOrEqual(VIM_REL.rel * Math.abs(a.alpha!));
    let pass = 0;
    const shrinking = () => {
      const all = cut(AWKWARD, false);
      return pass++ === 0 ? all : all.slice(1);
    };
    await rejectsWith(detectors.vim({ principalDim: 3 }).fit({ batches: shrinking, ...head }), 'ERR_INVALID_ARGUMENT');
  });

  it('fDBD / NCI: the mean is the float64 mean, bit for bit the array fit', async () => {
    const mean = new Float64Array(D);
    for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) mean[j] += features[i * D + j];
    for (let j = 0; j < D; j++) mean[j] /= N;
    const fitted = await detectors.fdbd().fit({ batches: cut(AWKWARD, false), ...head });
    expect(fitted.fittedState().tensors.mean).toEqual(mean);
  });
});

describe('ReAct: the exact percentile from batches', () => {
  /** The float64 reference: sort everything, numpy's linear interpolation. */
  function reference(values: Float32Array, q: number): number {
    const sorted = Float64Array.from(values).sort();
    const pos = (q / 100) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  const random = rng(5);
  const values = Float32Array.from({ length: 3001 }, (_, k) => {
    if (k % 17 === 0) return 0; // ties, and both zeros
    if (k % 19 === 0) return -0;
    if (k % 23 === 0) return 1.5; // a repeated value
    return (random() - 0.3) * 10 ** Math.floor(random() * 6 - 3); // negatives, wide range of exponents
  });
  const pieces = (sizes: number[]) => cut(sizes, false, values, new Int32Array(values.length), 1);

  for (const q of [0, 0.01, 12.5, 50, 85, 90, 99.99, 100]) {
    it(`q = ${q}: equals the array fit and the float64 reference exactly`, async () => {
      const array = await detectors.react({ percentile: q }).fit({ features: values });
      const streamed = await detectors.react({ percentile: q }).fit({ batches: pieces([1, 5, 211, 2, 997]) });
      expect(streamed.clip).toBe(array.clip);
      expect(streamed.clip).toBe(reference(values, q));
    });
  }

  it('values close together (one high bin), a single value, two values', async () => {
    const near = Float32Array.from({ length: 500 }, (_, k) => 1 + k * 2 ** -23 * ((k * 7919) % 13));
    for (const v of [near, Float32Array.of(-3.25), Float32Array.of(2, -2)]) {
      for (const q of [0, 33, 90, 100]) {
        const streamed = await detectors.react({ percentile: q }).fit({ batches: cut([3, 1], false, v, new Int32Array(v.length), 1) });
        expect(streamed.clip).toBe(reference(v, q));
      }
    }
  });

  it('with a head, batches are rows of its dim; generators are refused', async () => {
    await rejectsWith(detectors.react().fit({ batches: [{ features: new Float32Array(D + 1) }], ...head }), 'ERR_SHAPE');
    await rejectsWith(detectors.react().fit({ batches: once(pieces([10])) }), 'ERR_INVALID_ARGUMENT');
  });
});

describe('raw bindings validate their arguments', () => {
  const f64 = (n: number) => new Float64Array(n);
  it('mahalanobisFitMoments', async () => {
    const b = native();
    const good = { shift: Float64Array.of(0, 0), counts: Float64Array.of(2, 3), sums: f64(4), scatter: Float64Array.of(1, 0, 0, 1), dim: 2, numClasses: 2, relative: false };
    const throwsCode = (f: () => unknown, code: string) => expect(f).toThrow(expect.objectContaining({ code }));
    throwsCode(() => b.mahalanobisFitMoments({ ...good, shift: new Float32Array(2) as never }), 'ERR_DTYPE');
    throwsCode(() => b.mahalanobisFitMoments({ ...good, sums: f64(3) }), 'ERR_SHAPE');
    throwsCode(() => b.mahalanobisFitMoments({ ...good, dim: 0 }), 'ERR_SHAPE');
    throwsCode(() => (b.mahalanobisFitMoments as (...a: unknown[]) => unknown)(good.shift, good.counts), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(b.mahalanobisFitMoments({ ...good, counts: Float64Array.of(2, 0.5) }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(b.mahalanobisFitMoments({ ...good, counts: Float64Array.of(2, 0) }), 'ERR_EMPTY_CLASS');
    await rejectsWith(b.mahalanobisFitMoments({ ...good, scatter: Float64Array.of(1, NaN, 0, 1) }), 'ERR_NOT_FINITE');
    await rejectsWith(b.mahalanobisFitMoments({ ...good, ridge: -1 }), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => b.mahalanobisFitMoments({ ...good, covariance: 'lu' as never }), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => b.mahalanobisFitMoments({ ...good, backend: 'gpu' as never }), 'ERR_INVALID_ARGUMENT');
    const model = await b.mahalanobisFitMoments({ ...good, relative: true });
    expect(model.classes.count).toBe(2);
    expect(model.background?.count).toBe(1);
  });

  it('subspaceFitMoments', async () => {
    const b = native();
    const w = new Float32Array(4);
    const good = { shift: f64(2), count: 3, sums: f64(2), scatter: f64(4), dim: 2, standardise: false };
    const throwsCode = (f: () => unknown, code: string) => expect(f).toThrow(expect.objectContaining({ code }));
    throwsCode(() => b.subspaceFitMoments({ ...good, sums: f64(3) }), 'ERR_SHAPE');
    throwsCode(() => b.subspaceFitMoments({ ...good, weights: w, classes: 3 }), 'ERR_SHAPE');
    throwsCode(() => b.subspaceFitMoments({ ...good, weights: w }), 'ERR_INVALID_ARGUMENT'); // weights need classes >= 1
    throwsCode(() => b.subspaceFitMoments({ ...good, count: 'x' as never }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(b.subspaceFitMoments({ ...good, count: 0 }), 'ERR_SHAPE');
    await rejectsWith(b.subspaceFitMoments({ ...good, count: 1.5 }), 'ERR_INVALID_ARGUMENT');
    const fit = await b.subspaceFitMoments({ ...good, scatter: Float64Array.of(3, 0, 0, 6), standardise: true });
    expect(Array.from(fit.scale)).toEqual([1, Math.SQRT2]);
  });
});
