/**
 * Percentile bootstrap for OOD metrics.
 *
 * ID and OOD scores are resampled separately (each with replacement, keeping its own size), the
 * metrics are recomputed on every replicate, and the interval for each metric is the pair of
 * empirical quantiles ((1−confidence)/2, (1+confidence)/2) of its replicate values, interpolated
 * linearly between order statistics (numpy's default `np.quantile` rule).
 *
 * Randomness comes from mulberry32 seeded with `seed` (default 0), so the same inputs, options and
 * seed always give the same interval. Per replicate the ID sample is drawn first, then the OOD one.
 */
import { mulberry32 } from '../random.js';

export { mulberry32 };


/**
 * Draws a with-replacement resample of `sorted` (ascending) into `out`, already sorted.
 * Counting how often each index is drawn and writing the values back in index order avoids
 * sorting every replicate: O(n) instead of O(n log n).
 */
export function resampleSorted(sorted: Float64Array, rng: () => number, counts: Uint32Array, out: Float64Array): void {
  const n = sorted.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(rng() * n)]++;
  let w = 0;
  for (let i = 0; i < n; i++) {
    for (let c = counts[i]; c > 0; c--) out[w++] = sorted[i];
  }
}

/** Quantile q of ascending `sorted` with linear interpolation (numpy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Number of bootstrap replicates (integer ≥ 1). */
  samples: number;
  /** PRNG seed (integer, default 0). */
  seed?: number;
  /** Two-sided confidence level in (0, 1), default 0.95. */
  confidence?: number;
}

/**
 * Percentile-bootstrap intervals for every metric `compute` returns.
 * `sortedId` / `sortedOod` must be ascending; `compute` receives ascending resamples of the same sizes.
 */
export function bootstrapCI<K extends string>(
  sortedId: Float64Array,
  sortedOod: Float64Array,
  options: Required<BootstrapOptions>,
  compute: (sortedId: Float64Array, sortedOod: Float64Array) => Record<K, number>,
): Record<K, [number, number]> {
  const { samples, seed, confidence } = options;
  const rng = mulberry32(seed);
  const idBuf = new Float64Array(sortedId.length);
  const oodBuf = new Float64Array(sortedOod.length);
  const idCounts = new Uint32Array(sortedId.length);
  const oodCounts = new Uint32Array(sortedOod.length);

  const values = new Map<K, Float64Array>();
  for (let b = 0; b < samples; b++) {
    resampleSorted(sortedId, rng, idCounts, idBuf);
    resampleSorted(sortedOod, rng, oodCounts, oodBuf);
    const m = compute(idBuf, oodBuf);
    for (const key of Object.keys(m) as K[]) {
      let arr = values.get(key);
      if (!arr) values.set(key, (arr = new Float64Array(samples)));
      arr[b] = m[key];
    }
  }

  const alpha = (1 - confidence) / 2;
  const ci = {} as Record<K, [number, number]>;
  for (const [key, arr] of values) {
    arr.sort();
    ci[key] = [quantileSorted(arr, alpha), quantileSorted(arr, 1 - alpha)];
  }
  return ci;
}
