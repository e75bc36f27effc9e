// Rows scaled to unit L2 norm: the linear probe's optional input transform and Mahalanobis++'s (Müller & Hein 2025).
import { fail } from '../errors.js';
import { checkFloat32, checkInteger } from '../validate.js';

/** Rows scaled to unit L2 norm (rows of zeros stay zero), as a new array; norms summed in float64. */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  checkFloat32('x', x);
  checkInteger('dim', dim, 1); // a zero or fractional dim would never finish the row loop
  if (x.length % dim !== 0) fail('ERR_SHAPE', 'x', `a multiple of dim = ${dim} elements`, `${x.length} elements`);
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = x[r * dim + j] * scale;
  }
  return out;
}
