/**
 * OOD detection metrics.
 *
 * Convention: a score is "higher = more in-distribution". For the "_in" metrics (and `auroc`,
 * `fpr95`, `detection_error`) ID is the positive class scored by s; for the "_out" metrics and
 * `fpr95_ood_positive` OOD is the positive class scored by −s. All values are fractions in [0, 1].
 *
 * Algorithm: the ID and OOD scores are each copied to a Float64Array and sorted once (native numeric
 * sort); one merge-sweep over both from the top then yields, for every distinct score value, how
 * many ID and OOD scores are ≥ it. Every metric is a single pass over those counts, so ties are
 * handled exactly as scikit-learn does (one ROC/PR point per distinct score) in O(N log N) time and
 * O(N) memory.
 */
import { describe, fail } from '../errors.js';
import { bootstrapCI, type BootstrapOptions } from './bootstrap.js';

export type { BootstrapOptions } from './bootstrap.js';

export type Scores = ArrayLike<number>;

export interface OODMetrics {
  /** Area under the ROC curve, ties counted as ½ (Mann–Whitney U / (n_id·n_ood)); sklearn `roc_auc_score` with y = 1 for ID. */
  auroc: number;
  /** Paper convention: t = sortAscending(id)[round((1−tpr)·n_id)], fraction of OOD scores > t. */
  fpr95: number;
  /** OpenOOD / pytorch-ood convention: OOD positive with −s; FPR (ID flagged OOD) at the first ROC point with OOD recall ≥ tpr. */
  fpr95_ood_positive: number;
  /** sklearn `auc(recall, precision)` of `precision_recall_curve`, ID positive. */
  aupr_in: number;
  /** Same with OOD positive (score −s). */
  aupr_out: number;
  /** sklearn `average_precision_score`, ID positive. */
  ap_in: number;
  /** Same with OOD positive (score −s). */
  ap_out: number;
  /** min over ROC points (endpoints included) of 0.5·(1−TPR) + 0.5·FPR, ID positive. */
  detection_error: number;
}

export type OODMetricName = keyof OODMetrics;

export interface OODReport extends OODMetrics {
  n_id: number;
  n_ood: number;
  /** Percentile bootstrap intervals [lo, hi]; present only when `bootstrap` was requested. */
  ci?: Record<OODMetricName, [number, number]>;
}

export interface EvaluateOptions {
  /** Target TPR for `fpr95` and `fpr95_ood_positive`, in (0, 1]; default 0.95. The key names stay the same. */
  tpr?: number;
  /** Percentile bootstrap (see bootstrap.ts): ID and OOD resampled separately, seeded mulberry32. */
  bootstrap?: BootstrapOptions;
}

export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

/**
 * Cumulative counts at each distinct score, in decreasing order (sklearn's `_binary_clf_curve`):
 * tp[k] positives and fp[k] negatives score ≥ the k-th largest distinct score.
 */
interface Counts {
  tp: Float64Array;
  fp: Float64Array;
  /** Total positives / negatives (= last tp / fp). */
  pos: number;
  neg: number;
}

/** Copies scores to a Float64Array, rejecting empty input and non-finite values (naming the array and index). */
function toCheckedFloat64(scores: Scores, name: string): Float64Array {
  if (scores == null || typeof scores.length !== 'number') {
    fail('ERR_INVALID_ARGUMENT', name, 'an array of numbers', describe(scores));
  }
  if (scores.length === 0) fail('ERR_SHAPE', name, 'at least one score', 'an empty array');
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      fail('ERR_NOT_FINITE', `${name}[${i}]`, 'a finite number', describe(v));
    }
    out[i] = v;
  }
  return out;
}

function sortedCopy(scores: Scores, name: string): Float64Array {
  return toCheckedFloat64(scores, name).sort();
}

/** Merge-sweeps two ascending arrays from the top; positives = ID, negatives = OOD. */
function countsFromSorted(sortedId: Float64Array, sortedOod: Float64Array): Counts & { thresholds: Float64Array } {
  const cap = sortedId.length + sortedOod.length;
  const tp = new Float64Array(cap);
  const fp = new Float64Array(cap);
  const thresholds = new Float64Array(cap);
  let i = sortedId.length - 1;
  let j = sortedOod.length - 1;
  let nTp = 0;
  let nFp = 0;
  let d = 0;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? sortedOod[j] : j < 0 ? sortedId[i] : Math.max(sortedId[i], sortedOod[j]);
    // `===` treats -0 and +0 as one value, like numpy's diff-based grouping.
    while (i >= 0 && sortedId[i] === v) {
      nTp++;
      i--;
    }
    while (j >= 0 && sortedOod[j] === v) {
      nFp++;
      j--;
    }
    tp[d] = nTp;
    fp[d] = nFp;
    thresholds[d] = v;
    d++;
  }
  return {
    tp: tp.subarray(0, d),
    fp: fp.subarray(0, d),
    thresholds: thresholds.subarray(0, d),
    pos: sortedId.length,
    neg: sortedOod.length,
  };
}

/**
 * The same curve with the classes swapped and the score negated (OOD positive, score −s):
 * thresholds now run over s in increasing order, and "−s ≥ −v" means "s ≤ v", i.e. everything
 * except what scored strictly above v (the previous cumulative count).
 */
function flipCounts(c: Counts): Counts {
  const d = c.tp.length;
  const tp = new Float64Array(d);
  const fp = new Float64Array(d);
  for (let m = 0; m < d; m++) {
    const k = d - 1 - m;
    tp[m] = c.neg - (k > 0 ? c.fp[k - 1] : 0);
    fp[m] = c.pos - (k > 0 ? c.tp[k - 1] : 0);
  }
  return { tp, fp, pos: c.neg, neg: c.pos };
}

/**
 * AUROC as exact Mann–Whitney U: trapezoids between consecutive ROC points in integer counts
 * (ties give the ½ diagonal). 2U ≤ 2·pos·neg stays exact in a double up to ~6·10^7 scores per side.
 */
function auroc(c: Counts): number {
  let twiceU = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < c.tp.length; k++) {
    twiceU += (c.fp[k] - prevFp) * (c.tp[k] + prevTp);
    prevTp = c.tp[k];
    prevFp = c.fp[k];
  }
  return twiceU / (2 * c.pos * c.neg);
}

/**
 * FPR at the first ROC point (origin included) whose TPR ≥ `tpr`: sklearn
 * `fpr[np.searchsorted(tpr_curve, tpr, side='left')]` on `roc_curve(..., drop_intermediate=False)`.
 * Ratios are formed exactly as sklearn does (count / total) so the comparison matches bit for bit.
 */
function fprAtTpr(c: Counts, tpr: number): number {
  if (0 / c.pos >= tpr) return 0;
  for (let k = 0; k < c.tp.length; k++) {
    if (c.tp[k] / c.pos >= tpr) return c.fp[k] / c.neg;
  }
  return 1; // unreachable for tpr ≤ 1: the last point has TPR = 1
}

/** min over ROC points, both endpoints included, of 0.5·(1−TPR) + 0.5·FPR. */
function detectionError(c: Counts): number {
  let best = 0.5; // the origin (TPR = FPR = 0)
  for (let k = 0; k < c.tp.length; k++) {
    const e = 0.5 * (1 - c.tp[k] / c.pos) + 0.5 * (c.fp[k] / c.neg);
    if (e < best) best = e;
  }
  return best;
}

/**
 * sklearn `auc(recall, precision)` on `precision_recall_curve` (sklearn ≥ 1.1, full curve):
 * trapezoids from the appended (recall 0, precision 1) point through every threshold.
 */
function prAuc(c: Counts): number {
  let area = 0;
  let prevR = 0;
  let prevP = 1;
  for (let k = 0; k < c.tp.length; k++) {
    const r = c.tp[k] / c.pos;
    const p = c.tp[k] / (c.tp[k] + c.fp[k]);
    area += ((r - prevR) * (p + prevP)) / 2;
    prevR = r;
    prevP = p;
  }
  return area;
}

/** sklearn `average_precision_score`: Σ (R_k − R_{k−1}) · P_k, a step function, no interpolation. */
function averagePrecision(c: Counts): number {
  let ap = 0;
  let prevR = 0;
  for (let k = 0; k < c.tp.length; k++) {
    const r = c.tp[k] / c.pos;
    ap += (r - prevR) * (c.tp[k] / (c.tp[k] + c.fp[k]));
    prevR = r;
  }
  return ap;
}

/** Python's round(): round half to even on the exact double value. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The paper's FPR@TPR with ID positive: t = sortAscending(id)[round(q·n_id)] with q = 1 − tpr,
 * fpr = mean(ood > t). q is rounded to 15 significant digits first so that tpr = 0.95 gives exactly
 * the paper's `0.05·N` (1 − 0.95 is 0.050000000000000044 in binary, which would round 0.5 up at N = 10).
 * The index is clamped to n_id − 1 for tiny tpr.
 */
function fprPaper(sortedId: Float64Array, sortedOod: Float64Array, tpr: number): number {
  const q = Number((1 - tpr).toPrecision(15));
  const idx = Math.min(roundHalfEven(q * sortedId.length), sortedId.length - 1);
  const t = sortedId[idx];
  // Count OOD > t: binary search for the first element > t.
  let lo = 0;
  let hi = sortedOod.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortedOod[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return (sortedOod.length - lo) / sortedOod.length;
}

/** All metrics from ascending-sorted ID and OOD scores. */
function metricsFromSorted(sortedId: Float64Array, sortedOod: Float64Array, tpr: number): OODMetrics {
  const idPos = countsFromSorted(sortedId, sortedOod);
  const oodPos = flipCounts(idPos);
  return {
    auroc: auroc(idPos),
    fpr95: fprPaper(sortedId, sortedOod, tpr),
    fpr95_ood_positive: fprAtTpr(oodPos, tpr),
    aupr_in: prAuc(idPos),
    aupr_out: prAuc(oodPos),
    ap_in: averagePrecision(idPos),
    ap_out: averagePrecision(oodPos),
    detection_error: detectionError(idPos),
  };
}

function checkOptions(options: EvaluateOptions): { tpr: number; bootstrap?: Required<BootstrapOptions> } {
  const tpr = options.tpr ?? 0.95;
  if (typeof tpr !== 'number' || !(tpr > 0 && tpr <= 1)) {
    fail('ERR_INVALID_ARGUMENT', 'options.tpr', 'a number in (0, 1]', describe(tpr));
  }
  const b = options.bootstrap;
  if (b === undefined) return { tpr };
  if (b === null || typeof b !== 'object') {
    fail('ERR_INVALID_ARGUMENT', 'options.bootstrap', 'an object { samples, seed?, confidence? }', describe(b));
  }
  const { samples, seed = 0, confidence = 0.95 } = b;
  if (!Number.isInteger(samples) || samples < 1) {
    fail('ERR_INVALID_ARGUMENT', 'options.bootstrap.samples', 'an integer ≥ 1', describe(samples));
  }
  if (!Number.isInteger(seed)) {
    fail('ERR_INVALID_ARGUMENT', 'options.bootstrap.seed', 'an integer', describe(seed));
  }
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    fail('ERR_INVALID_ARGUMENT', 'options.bootstrap.confidence', 'a number in (0, 1)', describe(confidence));
  }
  return { tpr, bootstrap: { samples, seed, confidence } };
}

/**
 * Evaluates an OOD detector from its scores on ID and OOD data (higher = more in-distribution).
 * Throws NcodError: ERR_SHAPE for an empty array, ERR_NOT_FINITE for NaN/±Inf (with array and index),
 * ERR_INVALID_ARGUMENT for bad options.
 */
export function evaluateOOD(idScores: Scores, oodScores: Scores, options: EvaluateOptions = {}): OODReport {
  const opts = checkOptions(options);
  const sortedId = sortedCopy(idScores, 'idScores');
  const sortedOod = sortedCopy(oodScores, 'oodScores');
  const report: OODReport = {
    ...metricsFromSorted(sortedId, sortedOod, opts.tpr),
    n_id: sortedId.length,
    n_ood: sortedOod.length,
  };
  if (opts.bootstrap) {
    report.ci = bootstrapCI(sortedId, sortedOod, opts.bootstrap, (id, ood) => metricsFromSorted(id, ood, opts.tpr));
  }
  return report;
}

/**
 * ROC curve with ID positive, one point per distinct score plus the origin: sklearn
 * `roc_curve(y_id, s, drop_intermediate=False)`. thresholds[0] is +Infinity (sklearn ≥ 1.3; older
 * versions used max + 1); thresholds[k] is the smallest score counted as ID at point k.
 */
export function rocCurve(idScores: Scores, oodScores: Scores): RocCurve {
  const c = countsFromSorted(sortedCopy(idScores, 'idScores'), sortedCopy(oodScores, 'oodScores'));
  const n = c.tp.length + 1;
  const fpr = new Float64Array(n);
  const tpr = new Float64Array(n);
  const thresholds = new Float64Array(n);
  thresholds[0] = Infinity;
  for (let k = 0; k < c.tp.length; k++) {
    fpr[k + 1] = c.fp[k] / c.neg;
    tpr[k + 1] = c.tp[k] / c.pos;
    thresholds[k + 1] = c.thresholds[k];
  }
  return { fpr, tpr, thresholds };
}
