// The conformal threshold keeps its promise: over many random calibration / test splits of exchangeable ID scores,
// the achieved TPR averages (n + 1 − k)/(n + 1) ≥ tpr, and p-values agree with the OOD flags.
import { describe, expect, it } from 'vitest';

import { achievedTpr, conformalCalibration, decide } from '../../lib/ood/calibration.js';
import { gaussian, rng } from '../helpers/random.js';

/** Mean TPR on the held-back rest over `splits` random calibration sets of size n, from one pool of scores. */
function meanCoverage(n: number, tpr: number, splits: number, seed: number): number {
  const random = rng(seed);
  const normal = gaussian(random);
  const pool = Float64Array.from({ length: 2000 }, () => normal() * 3 + 1);
  let total = 0;
  for (let s = 0; s < splits; s++) {
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const calibration = conformalCalibration(pool.subarray(0, n), tpr);
    const rest = pool.subarray(n);
    let kept = 0;
    for (const v of rest) kept += v >= calibration.threshold ? 1 : 0;
    total += kept / rest.length;
  }
  return total / splits;
}

describe('conformalCalibration', () => {
  it.each([
    [99, 0.95, 0.95], // k = 5: exactly 95/100
    [19, 0.9, 0.9], // k = 2: 18/20
    [24, 0.9, 23 / 25], // k = 2: the guarantee is conservative when (n + 1)(1 − tpr) is not whole
    [500, 0.99, 496 / 501], // k = 5
  ])('n = %i, tpr = %f: mean achieved TPR over 3000 splits ≈ %f, never below tpr', (n, tpr, expected) => {
    const mean = meanCoverage(n, tpr, 3000, n);
    // Per split the TPR has sd ≈ sqrt(tpr(1 − tpr)/n); over 3000 splits the mean's sd is below 0.0008.
    expect(Math.abs(mean - expected)).toBeLessThan(0.004);
    expect(mean).toBeGreaterThan(tpr - 0.004);
  });

  it('the plain empirical quantile misses the target at small n, which is why the finite-sample rank is used', () => {
    // With n = 19 and tpr = 0.9 the plain 10 % quantile interpolates between s_(2) and s_(3): above s_(2), too strict.
    const calibration = conformalCalibration(Float64Array.from({ length: 19 }, (_, i) => i), 0.9);
    expect(calibration.rank).toBe(2);
    expect(calibration.threshold).toBe(1);
  });

  it('p-values are ranks among the calibration scores, and p ≤ k/(n + 1) exactly when flagged OOD', () => {
    const normal = gaussian(rng(7));
    const calibration = conformalCalibration(Float64Array.from({ length: 199 }, () => normal()), 0.95);
    const test = Float64Array.from({ length: 5000 }, () => normal() - 0.5);
    test[0] = calibration.threshold; // a tie with the threshold counts as ID
    test[1] = -Infinity;
    test[2] = Infinity;
    const { pValue, isOOD } = decide(calibration, test);
    expect(isOOD[0]).toBe(0);
    expect([isOOD[1], pValue[1]]).toEqual([1, 1 / 200]);
    expect([isOOD[2], pValue[2]]).toEqual([0, 1]);
    const cut = calibration.rank / (calibration.n + 1);
    pValue.forEach((p, i) => expect(isOOD[i]).toBe(p <= cut ? 1 : 0));
  });

  it('refuses a set too small to flag anything at the rate, a tpr outside (0, 1), and non-finite scores', () => {
    expect(() => conformalCalibration(new Float64Array(18), 0.95)).toThrow(/at least 19 held-out ID samples for tpr 0.95 .*, got 18$/);
    expect(conformalCalibration(new Float64Array(19), 0.95).rank).toBe(1);
    expect(() => conformalCalibration(new Float64Array(100), 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => conformalCalibration(Float64Array.of(1, NaN, ...new Float64Array(30)), 0.9)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FINITE' }));
  });
});

describe('achievedTpr', () => {
  it('reports the fraction kept with a seeded bootstrap interval around it that narrows with n', () => {
    const normal = gaussian(rng(3));
    const calibration = conformalCalibration(Float64Array.from({ length: 999 }, () => normal()), 0.95);
    const small = achievedTpr(calibration, Float64Array.from({ length: 200 }, () => normal()), { seed: 1 });
    const large = achievedTpr(calibration, Float64Array.from({ length: 20000 }, () => normal()), { seed: 1 });
    for (const r of [small, large]) expect(r.low <= r.tpr && r.tpr <= r.high).toBe(true);
    expect(large.high - large.low).toBeLessThan((small.high - small.low) / 5);
    expect(Math.abs(large.tpr - 0.95)).toBeLessThan(0.01);
    expect(achievedTpr(calibration, Float64Array.from({ length: 200 }, (_, i) => i / 100), { seed: 1 })).toEqual(
      achievedTpr(calibration, Float64Array.from({ length: 200 }, (_, i) => i / 100), { seed: 1 }),
    );
  });
});
