// Ranking k methods over N blocks (e.g. detectors over OOD sets): the Friedman test and its post-hoc pairwise
// comparisons (Demšar 2006, JMLR 7: mean ranks, z = (R_i − R_j)/√(k(k+1)/(6N)), Holm's step-down correction),
// the standard for "which detectors differ" across data sets.
import { fail } from '../errors.js';
import { chiSquareSurvival, normalTwoSided } from './special.js';

export interface Pairwise {
  a: string;
  b: string;
  /** Mean rank of a minus mean rank of b (rank 1 = best). */
  rankDifference: number;
  z: number;
  p: number;
  /** Holm-adjusted p-value (monotone). */
  pHolm: number;
}

export interface FriedmanResult {
  methods: string[];
  blocks: number;
  /** Mean rank per method (1 = best), ties given their average rank. */
  meanRanks: number[];
  /** Friedman's χ² statistic, tie-corrected; null with fewer than 2 blocks or methods. */
  statistic: number | null;
  pValue: number | null;
  pairwise: Pairwise[];
}

/** Ranks (1 = best) of one block's values, ties averaged. */
export function ranksOf(values: readonly number[], higherIsBetter: boolean): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => (higherIsBetter ? y[0] - x[0] : x[0] - y[0]));
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    for (let j = start; j <= end; j++) ranks[order[j][1]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** `table[block][method]`: one value per method per block, all finite. */
export function friedman(methods: string[], table: number[][], higherIsBetter: boolean): FriedmanResult {
  const k = methods.length;
  const n = table.length;
  for (const row of table) {
    if (row.length !== k || row.some((v) => !Number.isFinite(v))) fail('ERR_SHAPE', 'friedman table', `${k} finite values per block`, `[${row.join(', ')}]`);
  }
  const rankTable = table.map((row) => ranksOf(row, higherIsBetter));
  const meanRanks = methods.map((_, j) => rankTable.reduce((s, r) => s + r[j], 0) / Math.max(n, 1));
  let statistic: number | null = null;
  let pValue: number | null = null;
  if (n >= 2 && k >= 2) {
    // χ²_F with the tie correction: (k − 1)·Σ_j (R_j − n(k+1)/2)² / (Σ r² − n k (k+1)²/4), R_j the rank sums.
    let numerator = 0;
    for (let j = 0; j < k; j++) numerator += (meanRanks[j] * n - (n * (k + 1)) / 2) ** 2;
    const sumSquares = rankTable.reduce((s, r) => s + r.reduce((t, v) => t + v * v, 0), 0);
    const denominator = sumSquares - (n * k * (k + 1) ** 2) / 4;
    statistic = denominator > 0 ? ((k - 1) * numerator) / denominator : 0;
    pValue = denominator > 0 ? chiSquareSurvival(statistic, k - 1) : 1;
  }
  const se = Math.sqrt((k * (k + 1)) / (6 * Math.max(n, 1)));
  const pairwise: Pairwise[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const rankDifference = meanRanks[a] - meanRanks[b];
      const z = rankDifference / se;
      pairwise.push({ a: methods[a], b: methods[b], rankDifference, z, p: normalTwoSided(z), pHolm: NaN });
    }
  }
  // Holm: the i-th smallest p (0-based) times (m − i), made monotone, capped at 1.
  const order = pairwise.map((_, i) => i).sort((x, y) => pairwise[x].p - pairwise[y].p);
  let running = 0;
  order.forEach((index, i) => {
    running = Math.max(running, Math.min(1, (pairwise.length - i) * pairwise[index].p));
    pairwise[index].pHolm = running;
  });
  return { methods, blocks: n, meanRanks, statistic, pValue, pairwise };
}
