// The drift alarm's pieces: the sliding window of decisions and the binomial upper tail.
import { describe, expect, it } from 'vitest';

import { binomialUpperTail, DecisionWindow } from '../../lib/serve/drift.js';

describe('binomialUpperTail', () => {
  it('matches exact sums', () => {
    expect(binomialUpperTail(8, 10, 0.5)).toBeCloseTo(56 / 1024, 15);
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
    expect(binomialUpperTail(1, 3, 0.1)).toBeCloseTo(1 - 0.9 ** 3, 15);
    expect(binomialUpperTail(3, 3, 0.1)).toBeCloseTo(0.001, 15);
    expect(binomialUpperTail(2, 5, 0)).toBe(0);
  });

  it('is small when far more than the calibrated rate is flagged, near 1 at the rate', () => {
    expect(binomialUpperTail(50, 1000, 0.05)).toBeGreaterThan(0.4);
    expect(binomialUpperTail(200, 1000, 0.05)).toBeLessThan(1e-40);
    expect(binomialUpperTail(200, 1000, 0.05)).toBeGreaterThan(0);
  });
});

describe('DecisionWindow', () => {
  it('keeps the last N decisions', () => {
    const w = new DecisionWindow(4);
    w.push(new Uint8Array([1, 0, 1]));
    expect([w.count, w.oodCount]).toEqual([3, 2]);
    w.push(new Uint8Array([0, 0]));
    expect([w.count, w.oodCount]).toEqual([4, 1]); // [0, 1, 0, 0]
    w.push(new Uint8Array([1, 1, 1, 1, 1, 0]));
    expect([w.count, w.oodCount]).toEqual([4, 3]);
  });
});
