// CUDA vs CPU parity for classStats, and against the float64 reference.
import { describe, expect, it } from 'vitest';

import { classStats } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';
import { classStatsReference, maxElementwiseRelativeError, relativeError } from '../helpers/reference.js';
import { cudaAvailable, cudaSkipReason } from './cuda-status.js';

const cases = [
  { n: 1, dim: 1, numClasses: 1 },
  { n: 97, dim: 13, numClasses: 5 },
  { n: 509, dim: 257, numClasses: 3 },
  { n: 4099, dim: 33, numClasses: 101 }, // C × tile exceeds shared memory: the global-atomics path
  { n: 70_001, dim: 131, numClasses: 10 },
  { n: 200_003, dim: 512, numClasses: 100 },
];

describe.skipIf(!cudaAvailable)(`classStats: cuda equals cpu${cudaSkipReason}`, () => {
  for (const { n, dim, numClasses } of cases) {
    it(`N=${n} d=${dim} C=${numClasses}`, async () => {
      const { features, labels } = clusters(n, dim, numClasses, n + dim, { shift: 2 });
      const options = { numClasses, scatter: true, allowEmptyClasses: true };
      const cpu = await classStats(features, labels, { ...options, backend: 'cpu' });
      const gpu = await classStats(features, labels, { ...options, backend: 'cuda' });
      const ref = classStatsReference(features, labels, dim, numClasses);
      expect(Array.from(gpu.counts)).toEqual(Array.from(ref.counts));
      const present = Array.from(ref.counts.keys()).filter((c) => ref.counts[c] > 0);
      for (const c of present) {
        const row = (a: Float64Array) => a.subarray(c * dim, (c + 1) * dim);
        expect(maxElementwiseRelativeError(row(gpu.means), row(ref.means))).toBeLessThan(1e-6);
      }
      expect(relativeError(gpu.scatter!, cpu.scatter!)).toBeLessThan(1e-10);
    });
  }
});
