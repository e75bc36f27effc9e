// CUDA vs CPU parity for the NC metric suite and the streaming accumulator.
import { describe, expect, it } from 'vitest';

import { NcAccumulator, ncMetrics } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cudaAvailable, cudaSkipReason } from './cuda-status.js';

const cases = [
  { C: 2, dim: 1, n: 301 },
  { C: 10, dim: 7, n: 1500 },
  { C: 10, dim: 512, n: 20_011 },
  { C: 100, dim: 2048, n: 30_001 },
  { C: 250, dim: 64, n: 5003 }, // C × 32 tile > shared memory: the global-atomics path
];

describe.skipIf(!cudaAvailable)(`ncMetrics: cuda equals cpu${cudaSkipReason}`, () => {
  for (const { C, dim, n } of cases) {
    it(`C=${C} d=${dim} N=${n}`, async () => {
      const { features, labels } = clusters(n, dim, C, n, { separation: 2, shift: 0.5 });
      const normal = gaussian(rng(dim));
      const weights = Float32Array.from({ length: C * dim }, () => normal());
      const bias = Float32Array.from({ length: C }, () => normal());
      const oodFeatures = clusters(300, dim, 2, 5).features;
      const input = { features, labels, numClasses: C, weights, bias, oodFeatures };
      const cpu = await ncMetrics({ ...input, backend: 'cpu' });
      const gpu = await ncMetrics({ ...input, backend: 'cuda' });
      for (const [key, value] of Object.entries(cpu)) {
        const g = gpu[key as keyof typeof gpu] as number;
        // Argmax decisions may flip at near-ties (different float32 GEMM rounding): allow one sample in 10^4.
        const tol = key === 'nc4_ncc_agreement' ? 1e-4 : 1e-5 * Math.abs(value as number) + 1e-9;
        expect(Math.abs(g - (value as number)), key).toBeLessThanOrEqual(tol);
      }
    });
  }

  it('the accumulator on cuda equals the accumulator on cpu', async () => {
    const { features, labels } = clusters(10_007, 129, 9, 2, { shift: 3 });
    const states = [];
    for (const backend of ['cpu', 'cuda'] as const) {
      const acc = new NcAccumulator({ dim: 129, numClasses: 9, backend });
      await acc.add(features.subarray(0, 5000 * 129), labels.subarray(0, 5000));
      await acc.add(features.subarray(5000 * 129), labels.subarray(5000));
      states.push(await acc.finalize());
    }
    for (const [key, value] of Object.entries(states[0])) {
      if (value === null) continue;
      expect(Math.abs((states[1] as unknown as Record<string, number>)[key] - (value as number)), key).toBeLessThanOrEqual(1e-7 * Math.abs(value as number) + 1e-12);
    }
  });
});
