// Plain float64 reference implementations that the native kernels are checked against.

export function classStatsReference(features: Float32Array, labels: Int32Array, dim: number, numClasses: number) {
  const n = labels.length;
  const counts = new Float64Array(numClasses);
  const sums = new Float64Array(numClasses * dim);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c] += 1;
    for (let j = 0; j < dim; j++) sums[c * dim + j] += features[i * dim + j];
  }
  const means = new Float64Array(numClasses * dim);
  for (let c = 0; c < numClasses; c++) for (let j = 0; j < dim; j++) means[c * dim + j] = sums[c * dim + j] / counts[c];
  return { counts, sums, means };
}

/** Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ, row-major d×d. */
export function withinScatterReference(features: Float32Array, labels: Int32Array, dim: number, means: Float64Array) {
  const scatter = new Float64Array(dim * dim);
  const z = new Float64Array(dim);
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < dim; j++) z[j] = features[i * dim + j] - means[labels[i] * dim + j];
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) scatter[a * dim + b] += z[a] * z[b];
  }
  return scatter;
}

/** max_k |a_k − b_k| / max(max_k |b_k|, tiny): one scale for the whole array, so near-zero entries don't blow up. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let scale = 0;
  let worst = 0;
  for (let k = 0; k < expected.length; k++) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) {
    const diff = Math.abs(actual[k] - expected[k]);
    if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
  }
  return worst / Math.max(scale, 1e-300);
}

/** Largest elementwise relative error |a−b|/|b| (for means, where every entry matters on its own). */
export function maxElementwiseRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    const denom = Math.max(Math.abs(expected[k]), 1e-12);
    const err = Math.abs(actual[k] - expected[k]) / denom;
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}
