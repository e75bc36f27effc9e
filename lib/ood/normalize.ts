// Rows scaled to unit L2 norm: the linear probe's optional input transform and Mahalanobis++'s (Müller & Hein 2025).
import { describe, fail } from '../errors.js';
import { checkFloat32 } from '../validate.js';

/** Rows scaled to unit L2 norm (rows of zeros stay zero), as a new array; norms summed in float64. */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  checkFloat32('features', x);
  // An integer dim >= 1 that divides the length: 0 or a fraction would loop without end or mis-index rows.
  if (!Number.isSafeInteger(dim) || dim < 1 || x.length % dim !== 0) {
    fail('ERR_SHAPE', 'dim', `a positive integer dividing the length ${x.length}`, describe(dim));
  }
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = x[r * dim + j] * scale;
  }
  return out;
}
