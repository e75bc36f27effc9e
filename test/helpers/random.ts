// Seeded random data for tests: reproducible failures, awkward sizes on demand.

import { mulberry32 } from '../../lib/random.js';

/** Uniforms in [0, 1) from a seed (mulberry32). */
export const rng = mulberry32;

export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Labelled clusters: class c has mean offset `separation`·(c-th direction) plus unit noise, all shifted by `shift`. */
export function clusters(
  n: number,
  dim: number,
  numClasses: number,
  seed: number,
  { separation = 3, shift = 0 }: { separation?: number; shift?: number } = {},
): { features: Float32Array; labels: Int32Array } {
  const random = rng(seed);
  const normal = gaussian(random);
  const labels = new Int32Array(n);
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = i < numClasses ? i : Math.floor(random() * numClasses); // every class present when n >= C
    labels[i] = c;
    for (let j = 0; j < dim; j++) {
      features[i * dim + j] = shift + normal() + (j % numClasses === c ? separation : 0);
    }
  }
  return { features, labels };
}

/** Uniform features in [lo, hi) with uniformly random labels; fast enough for 10^8+ elements. */
export function uniformData(n: number, dim: number, numClasses: number, seed: number, lo = -1, hi = 1) {
  const random = rng(seed);
  const features = new Float32Array(n * dim);
  for (let k = 0; k < features.length; k++) features[k] = lo + (hi - lo) * random();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i < numClasses ? i : Math.floor(random() * numClasses);
  return { features, labels };
}
