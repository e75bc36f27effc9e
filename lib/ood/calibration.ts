// Turning scores into decisions with a guarantee: the split-conformal threshold and p-values.
//
// Scores are "higher = more in-distribution". Given n held-out ID scores s_(1) ≤ … ≤ s_(n), the threshold for a
// target TPR is τ = s_(k) with k = ⌊(n + 1)(1 − tpr)⌋, and a sample is OOD when its score is below τ. For a new ID
// sample exchangeable with the calibration set, P(score ≥ τ) = (n + 1 − k)/(n + 1) ≥ tpr (ties only raise it):
// the finite-sample guarantee, which the plain empirical quantile lacks for small n. The conformal p-value of a
// score s under "s is ID" is (1 + #{i : s_i ≤ s})/(n + 1); isOOD ⇔ p ≤ k/(n + 1), so the two always agree.
import { describe, fail } from '../errors.js';
import { mulberry32, quantileSorted } from './bootstrap.js';

export interface Calibration {
  /** The target true-positive rate (ID kept as ID). */
  tpr: number;
  /** τ: scores below it are OOD. */
  threshold: number;
  /** The number of calibration scores. */
  n: number;
  /** k: τ is the k-th smallest calibration score. */
  rank: number;
  /** The calibration scores, ascending (the p-values are ranks among them). */
  scores: Float64Array;
}

export interface Decisions {
  score: Float64Array;
  /** Conformal p-value of "this sample is ID": small = unlike the calibration data. */
  pValue: Float64Array;
  /** 1 where score < threshold. */
  isOOD: Uint8Array;
}

/** The conformal threshold for `tpr` from held-out ID scores; refuses a set too small to flag anything at that rate. */
export function conformalCalibration(idScores: Float64Array, tpr: number): Calibration {
  if (!(idScores instanceof Float64Array)) fail('ERR_DTYPE', 'calibration scores', 'Float64Array', describe(idScores));
  if (typeof tpr !== 'number' || !(tpr > 0 && tpr < 1)) fail('ERR_INVALID_ARGUMENT', 'tpr', 'a number in (0, 1)', describe(tpr));
  const bad = idScores.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail('ERR_NOT_FINITE', `calibration scores[${bad}]`, 'a finite score', String(idScores[bad]));
  const n = idScores.length;
  // k = ⌊(n + 1)(1 − tpr)⌋ for the decimal tpr the user typed: 1 − 0.9 is 0.0999…98 in binary, and 20 × that must
  // still give 2, so the product is rounded down only past a 1e-9 slack (which moves the guarantee by < 1e-9).
  const rank = Math.floor((n + 1) * (1 - tpr) + 1e-9);
  if (rank < 1) {
    const needed = Math.ceil(1 / (1 - tpr) - 1e-9) - 1;
    fail('ERR_INVALID_ARGUMENT', 'calibration', `at least ${needed} held-out ID samples for tpr ${tpr} (fewer can never flag OOD)`, `${n}`);
  }
  const scores = Float64Array.from(idScores).sort();
  return { tpr, threshold: scores[rank - 1], n, rank, scores };
}

/** #{i : sorted[i] ≤ s} by binary search. */
function countAtMost(sorted: Float64Array, s: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** p-values and OOD flags for scores under a calibration. A NaN score (never produced by a detector) is OOD, p = 1/(n+1). */
export function decide(calibration: Calibration, score: Float64Array): Decisions {
  const { scores, n, threshold } = calibration;
  const pValue = new Float64Array(score.length);
  const isOOD = new Uint8Array(score.length);
  for (let i = 0; i < score.length; i++) {
    const s = score[i];
    pValue[i] = (1 + (Number.isNaN(s) ? 0 : countAtMost(scores, s))) / (n + 1);
    isOOD[i] = !(s >= threshold) ? 1 : 0;
  }
  return { score, pValue, isOOD };
}

export interface AchievedTpr {
  /** The fraction of these ID scores at or above the threshold. */
  tpr: number;
  /** Percentile-bootstrap interval of that fraction over this set. */
  low: number;
  high: number;
  confidence: number;
  n: number;
}

/** The TPR a calibration achieves on a second held-out ID set, with a percentile-bootstrap interval (seeded). */
export function achievedTpr(
  calibration: Calibration,
  idScores: Float64Array,
  options: { confidence?: number; resamples?: number; seed?: number } = {},
): AchievedTpr {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  if (!(confidence > 0 && confidence < 1)) fail('ERR_INVALID_ARGUMENT', 'confidence', 'a number in (0, 1)', describe(confidence));
  if (!Number.isInteger(resamples) || resamples < 1) fail('ERR_INVALID_ARGUMENT', 'resamples', 'a positive integer', describe(resamples));
  const n = idScores.length;
  if (n === 0) fail('ERR_SHAPE', 'held-out scores', 'at least one score', '0');
  const kept = new Uint8Array(n);
  let hits = 0;
  for (let i = 0; i < n; i++) hits += kept[i] = idScores[i] >= calibration.threshold ? 1 : 0;
  const rng = mulberry32(options.seed ?? 0);
  const replicate = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let count = 0;
    for (let i = 0; i < n; i++) count += kept[Math.floor(rng() * n)];
    replicate[r] = count / n;
  }
  replicate.sort();
  return {
    tpr: hits / n,
    low: quantileSorted(replicate, (1 - confidence) / 2),
    high: quantileSorted(replicate, (1 + confidence) / 2),
    confidence,
    n,
  };
}
