// CUDA vs CPU parity for the batch fits (moments accumulated on the backend, models derived from them) and for NC4's
// per-batch agreement count.
import { describe, expect, it } from 'vitest';

import { detectors, nccAgreementCount } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cudaAvailable, cudaSkipReason } from './cuda-status.js';

function cut(features: Float32Array, labels: Int32Array, dim: number, sizes: number[]) {
  const out = [];
  for (let r = 0, k = 0; r < labels.length; k++) {
    const s = Math.min(sizes[k % sizes.length], labels.length - r);
    out.push({ features: features.subarray(r * dim, (r + s) * dim), labels: labels.subarray(r, r + s) });
    r += s;
  }
  return out;
}

describe.skipIf(!cudaAvailable)(`fits from batches: cuda equals cpu${cudaSkipReason}`, () => {
  const d = 33;
  const C = 6;
  const { features, labels } = clusters(1009, d, C, 4, { shift: 2 });
  const test = clusters(101, d, C, 5).features;
  const normal = gaussian(rng(3));
  const weights = Float32Array.from({ length: C * d }, () => normal() / Math.sqrt(d));
  const bias = Float32Array.from({ length: C }, () => normal());
  const batches = cut(features, labels, d, [1, 257, 31]);

  for (const m of ['mahalanobis', 'relativeMahalanobis', 'mahalanobisPlusPlus'] as const) {
    it(m, async () => {
      const fit = async (backend: 'cpu' | 'cuda') => (await detectors[m]({ backend }).fit({ batches, numClasses: C })).score(test, {});
      const cpu = await fit('cpu');
      const gpu = await fit('cuda');
      for (let i = 0; i < cpu.length; i++) expect(Math.abs(gpu[i] - cpu[i]), `row ${i}`).toBeLessThanOrEqual(1e-6 * (Math.abs(cpu[i]) + 1));
    });
  }

  it('vim', async () => {
    const fit = async (backend: 'cpu' | 'cuda') => detectors.vim({ principalDim: 8, backend }).fit({ batches, weights, bias, numClasses: C });
    const [cpu, gpu] = [await fit('cpu'), await fit('cuda')];
    expect(Math.abs(gpu.alpha! - cpu.alpha!)).toBeLessThanOrEqual(1e-6 * Math.abs(cpu.alpha!));
  });

  it('nccAgreementCount', async () => {
    const means = new Float64Array(C * d);
    const counts = new Float64Array(C);
    for (let i = 0; i < labels.length; i++) {
      counts[labels[i]]++;
      for (let j = 0; j < d; j++) means[labels[i] * d + j] += features[i * d + j];
    }
    for (let k = 0; k < means.length; k++) means[k] /= counts[Math.floor(k / d)];
    const noisy = Float32Array.from(means, (v) => v + 0.8 * normal());
    for (const b of batches) {
      const cpu = await nccAgreementCount(b.features, means, noisy, bias, C, { backend: 'cpu' });
      expect(await nccAgreementCount(b.features, means, noisy, bias, C, { backend: 'cuda' })).toBe(cpu);
    }
  });
});
