/**
 * GNC2 and UNC3 of Wu & Papyan, "Linguistic Collapse: Neural Collapse in (Large) Language Models" (NeurIPS 2024),
 * the two metrics their library rhubarbwu/neural-collapse has beside the classic NC ones. Both are computed in
 * float64 from the C×d class means alone (plus the classifier for UNC3): O(C²·d), no pass over the samples.
 *
 * Definitions implemented (μ̃_c = μ_c − μ_G, û_c = μ̃_c / ‖μ̃_c‖, μ_G as for the other metrics):
 * - gnc2_hyperspherical_uniformity: the standard deviation, over the C(C−1)/2 unordered pairs i < j, of the
 *   logarithmic inverse-distance kernel log(1/‖û_i − û_j‖) (Liu et al. 2023's K_log). Their library's
 *   `kernel_grid(M, m_G, log_kernel)` gives exactly these pairwise values on the centred, L2-normalised means, and
 *   the paper's analysis (linguistic-collapse/analyze.py, `--geodesic log`) records the mean and the standard
 *   deviation of the upper triangle (`triu_mean`/`triu_std`); neither code fixes one of the two as "GNC2". We
 *   report the deviation (uniformity read as all pairwise log-distances alike), not the mean, because it is what
 *   reaches 0 under collapse: a simplex ETF (C ≤ d + 1) has all pairwise distances equal,
 *   whereas the kernel's mean depends on C and d even at the optimum. Population deviation (divide by the number
 *   of pairs): the pairs are the whole population, not a sample. Null when two normalised means coincide (a
 *   distance of 0 puts +∞ in the kernel, e.g. d = 1 with C > 2) or a centred mean is 0.
 * - unc3_uniform_duality: the coefficient of variation, std / |mean| with the sample deviation (n − 1, like
 *   nc2_equinorm_*), over classes of cos(w_c, μ̃_c), the cosine similarity of each centred class mean with its
 *   classifier row (the library's `similarities(M, W, m_G, cos=True)`). Uniform duality asks for equal alignment
 *   of every class with its classifier rather than NC3's exact self-duality, so it reaches 0 when all cosines are
 *   equal; |mean| keeps it non-negative for a classifier anti-aligned with the means. Null without weights,
 *   when a centred mean or a classifier row is 0, or when the cosines average exactly 0 (e.g. ±1 at d = 1).
 */
import { fail } from '../errors.js';

export interface UniformityMetrics {
  gnc2_hyperspherical_uniformity: number | null;
  unc3_uniform_duality: number | null;
}

/** Per-class float64 means and counts of features in memory (the GNC2/UNC3 input; NC1's native pass has its own). */
export function classMeans(features: Float32Array, labels: Int32Array, classes: number, dim: number): { means: Float64Array; counts: Float64Array } {
  const means = new Float64Array(classes * dim);
  const counts = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    counts[c]++;
    const row = i * dim;
    const out = c * dim;
    for (let j = 0; j < dim; j++) means[out + j] += features[row + j];
  }
  for (let c = 0; c < classes; c++) {
    if (counts[c] === 0) fail('ERR_INVALID_ARGUMENT', 'labels', `at least one sample of every class 0..${classes - 1}`, `none of class ${c}`);
    for (let j = 0; j < dim; j++) means[c * dim + j] /= counts[c];
  }
  return { means, counts };
}

/** The class statistics of an NcAccumulator's state (means = shift + sums / counts, all float64). */
export interface ClassSums {
  shift: ArrayLike<number>;
  sums: ArrayLike<number>;
  counts: ArrayLike<number>;
  dim: number;
  classes: number;
}

/** GNC2 and UNC3 of an accumulated state (the streaming path and `ncod merge`). */
export function uniformityOfState(state: ClassSums, weights: Float32Array | null, weightedGlobalMean: boolean): UniformityMetrics {
  const { shift, sums, counts, dim, classes } = state;
  const means = new Float64Array(classes * dim);
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) means[c * dim + j] = shift[j] + sums[c * dim + j] / counts[c];
  return uniformityMetrics(means, counts, classes, dim, weights, weightedGlobalMean);
}

/** The class means minus μ_G (the mean of the means, or the sample-weighted mean), C×d. */
function centred(means: Float64Array, counts: ArrayLike<number>, classes: number, dim: number, weightedGlobalMean: boolean): Float64Array {
  const total = Array.from(counts).reduce((a, b) => a + b, 0);
  const global = new Float64Array(dim);
  for (let c = 0; c < classes; c++) {
    const w = weightedGlobalMean ? counts[c] / total : 1 / classes;
    for (let j = 0; j < dim; j++) global[j] += w * means[c * dim + j];
  }
  const out = new Float64Array(classes * dim);
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) out[c * dim + j] = means[c * dim + j] - global[j];
  return out;
}

function norm(a: ArrayLike<number>, offset: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[offset + j] * a[offset + j];
  return Math.sqrt(s);
}

function gnc2(mt: Float64Array, classes: number, dim: number): number | null {
  const unit = new Float64Array(classes * dim);
  for (let c = 0; c < classes; c++) {
    const n = norm(mt, c * dim, dim);
    if (!(n > 0)) return null;
    for (let j = 0; j < dim; j++) unit[c * dim + j] = mt[c * dim + j] / n;
  }
  // The difference is formed before its norm (not √(2 − 2cos)) so nearly equal means keep their digits.
  const kernel: number[] = [];
  for (let a = 0; a < classes; a++) {
    for (let b = a + 1; b < classes; b++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const diff = unit[a * dim + j] - unit[b * dim + j];
        s += diff * diff;
      }
      if (!(s > 0)) return null;
      kernel.push(-0.5 * Math.log(s));
    }
  }
  const mean = kernel.reduce((x, y) => x + y, 0) / kernel.length;
  return Math.sqrt(kernel.reduce((x, k) => x + (k - mean) ** 2, 0) / kernel.length);
}

function unc3(mt: Float64Array, weights: Float32Array, classes: number, dim: number): number | null {
  const cos = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += weights[c * dim + j] * mt[c * dim + j];
    const denominator = norm(weights, c * dim, dim) * norm(mt, c * dim, dim);
    if (!(denominator > 0)) return null;
    cos[c] = dot / denominator;
  }
  const mean = cos.reduce((x, y) => x + y, 0) / classes;
  const std = Math.sqrt(cos.reduce((x, k) => x + (k - mean) ** 2, 0) / (classes - 1));
  return mean === 0 ? null : std / Math.abs(mean);
}

/** GNC2 and UNC3 from C×d float64 class means (and their counts, for the weighted global mean). */
export function uniformityMetrics(
  means: Float64Array,
  counts: ArrayLike<number>,
  classes: number,
  dim: number,
  weights: Float32Array | null,
  weightedGlobalMean: boolean,
): UniformityMetrics {
  const mt = centred(means, counts, classes, dim, weightedGlobalMean);
  return { gnc2_hyperspherical_uniformity: gnc2(mt, classes, dim), unc3_uniform_duality: weights ? unc3(mt, weights, classes, dim) : null };
}
