// The rank statistics against SciPy: Friedman's χ² (tie-corrected) and its p-value, the χ² and normal tails.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { friedman, ranksOf } from '../../lib/stats/friedman.js';
import { chiSquareSurvival, normalTwoSided } from '../../lib/stats/special.js';
import { findPython } from '../helpers/python.js';
import { rng } from '../helpers/random.js';

function scipy(script: string, input: unknown): unknown {
  const r = spawnSync(findPython(['scipy']), ['-c', `import json, sys, numpy as np, scipy.stats as st\nx = json.load(sys.stdin)\n${script}`], {
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('special functions', () => {
  it('χ² and two-sided normal tails equal SciPy to 1e-12 relative, deep into the tail', () => {
    const points = [[0.01, 1], [0.5, 1], [3.84, 1], [10, 2], [1e-6, 3], [25, 4], [60, 5], [150, 12], [0.3, 30], [400, 50]];
    const zs = [0, 0.1, 1, 1.959963984540054, 3, 5, 8, 12, 30];
    const expected = scipy(
      "print(json.dumps({'chi2': [st.chi2.sf(v, k) for v, k in x['points']], 'norm': [2 * st.norm.sf(abs(z)) for z in x['zs']]}))",
      { points, zs },
    ) as { chi2: number[]; norm: number[] };
    points.forEach(([v, k], i) => expect(Math.abs(chiSquareSurvival(v, k) - expected.chi2[i]) / expected.chi2[i], `${v}, ${k}`).toBeLessThan(1e-12));
    zs.forEach((z, i) => expect(Math.abs(normalTwoSided(z) - expected.norm[i]) / expected.norm[i], `${z}`).toBeLessThan(1e-12));
  });
});

describe('friedman', () => {
  it('matches scipy.stats.friedmanchisquare on random tables with ties', () => {
    const random = rng(11);
    for (const [blocks, methods] of [[2, 3], [5, 4], [12, 7], [30, 14]]) {
      // Values on a coarse grid so that ties happen within blocks.
      const table = Array.from({ length: blocks }, () => Array.from({ length: methods }, () => Math.round(random() * 6) / 6));
      const ours = friedman(Array.from({ length: methods }, (_, j) => `m${j}`), table, true);
      const [statistic, p] = scipy('r = st.friedmanchisquare(*np.array(x).T); print(json.dumps([r.statistic, r.pvalue]))', table) as [number, number];
      expect(Math.abs(ours.statistic! - statistic) / statistic, `${blocks}×${methods}`).toBeLessThan(1e-12);
      expect(Math.abs(ours.pValue! - p) / p, `${blocks}×${methods}`).toBeLessThan(1e-9);
    }
  });

  it('mean ranks put the best first, and Holm-adjusted p-values are monotone, ≥ raw, ≤ 1', () => {
    // m0 always best, m3 always worst, m1 and m2 swap.
    const table = Array.from({ length: 10 }, (_, b) => [0.99, b % 2 ? 0.8 : 0.7, b % 2 ? 0.7 : 0.8, 0.5]);
    const r = friedman(['m0', 'm1', 'm2', 'm3'], table, true);
    expect(r.meanRanks).toEqual([1, 2.5, 2.5, 4]);
    const sorted = [...r.pairwise].sort((a, b) => a.p - b.p);
    sorted.forEach((pair, i) => {
      expect(pair.pHolm).toBeGreaterThanOrEqual(pair.p);
      expect(pair.pHolm).toBeLessThanOrEqual(1);
      if (i > 0) expect(pair.pHolm).toBeGreaterThanOrEqual(sorted[i - 1].pHolm);
    });
    const extreme = r.pairwise.find((p) => p.a === 'm0' && p.b === 'm3')!;
    expect(extreme.pHolm).toBeLessThan(0.001);
    expect(r.pairwise.find((p) => p.a === 'm1' && p.b === 'm2')!.p).toBe(1);
    expect(ranksOf([3, 1, 3, 2], false)).toEqual([3.5, 1, 3.5, 2]);
  });
});
