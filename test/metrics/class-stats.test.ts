import { describe, expect, it } from 'vitest';

import { classStats, NcodError } from '../../lib/index.js';
import { clusters, uniformData } from '../helpers/random.js';
import {
  classStatsReference,
  maxElementwiseRelativeError,
  relativeError,
  withinScatterReference,
} from '../helpers/reference.js';

// Awkward sizes: a single sample, primes, dims around the kernels' block sizes, more classes than samples/dim.
const cases = [
  { n: 1, dim: 1, numClasses: 1 },
  { n: 1, dim: 5, numClasses: 1 },
  { n: 2, dim: 3, numClasses: 2 },
  { n: 97, dim: 13, numClasses: 5 },
  { n: 1009, dim: 1, numClasses: 7 },
  { n: 509, dim: 257, numClasses: 3 },
  { n: 4099, dim: 33, numClasses: 101 },
  { n: 3001, dim: 131, numClasses: 10 },
];

describe('classStats matches the float64 reference (cpu)', () => {
  for (const { n, dim, numClasses } of cases) {
    it(`N=${n} d=${dim} C=${numClasses}`, async () => {
      // Shifted away from 0 so every mean entry has a meaningful relative error.
      const { features, labels } = clusters(n, dim, numClasses, n * 31 + dim, { shift: 2 });
      const ref = classStatsReference(features, labels, dim, numClasses);
      const got = await classStats(features, labels, { numClasses, scatter: true, allowEmptyClasses: true });
      expect(got.n).toBe(n);
      expect(got.dim).toBe(dim);
      expect(Array.from(got.counts)).toEqual(Array.from(ref.counts));
      expect(maxElementwiseRelativeError(got.sums, ref.sums)).toBeLessThan(1e-12);
      const present = (c: number) => ref.counts[c] > 0;
      for (let c = 0; c < numClasses; c++) {
        const slice = (a: Float64Array) => a.subarray(c * dim, (c + 1) * dim);
        if (present(c)) expect(maxElementwiseRelativeError(slice(got.means), slice(ref.means))).toBeLessThan(1e-6);
        else expect(Array.from(slice(got.means)).every(Number.isNaN)).toBe(true);
      }
      const scatter = withinScatterReference(features, labels, dim, ref.means.map((v) => (Number.isNaN(v) ? 0 : v)));
      expect(got.scatter).not.toBeNull();
      expect(relativeError(got.scatter!, scatter)).toBeLessThan(1e-10);
    });
  }

  it('scatter is null unless requested', async () => {
    const { features, labels } = clusters(10, 4, 2, 1);
    const got = await classStats(features, labels, { numClasses: 2 });
    expect(got.scatter).toBeNull();
  });

  it('is exactly reproducible run to run', async () => {
    const { features, labels } = uniformData(100_003, 64, 10, 5);
    const a = await classStats(features, labels, { numClasses: 10, scatter: true });
    const b = await classStats(features, labels, { numClasses: 10, scatter: true });
    expect(Buffer.from(a.sums.buffer).equals(Buffer.from(b.sums.buffer))).toBe(true);
    expect(Buffer.from(a.scatter!.buffer).equals(Buffer.from(b.scatter!.buffer))).toBe(true);
  });
});

describe('classStats on 10^6 × 512 features', () => {
  const n = 1_000_000;
  const dim = 512;
  const numClasses = 10;
  // 2 GB of float32 features in [1, 3): means sit far from zero so relative errors are meaningful.
  const { features, labels } = uniformData(n, dim, numClasses, 2024, 1, 3);

  it('means equal the float64 reference (relative error < 1e-6)', async () => {
    const ref = classStatsReference(features, labels, dim, numClasses);
    const got = await classStats(features, labels, { numClasses });
    expect(Array.from(got.counts)).toEqual(Array.from(ref.counts));
    expect(maxElementwiseRelativeError(got.means, ref.means)).toBeLessThan(1e-6);
  });

  it('runs off the JS thread: timers keep firing while it works', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let settled = false;
    const pending = classStats(features, labels, { numClasses }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ticksWhilePending = ticks;
    const wasPending = !settled;
    await pending;
    clearInterval(timer);
    expect(wasPending).toBe(true);
    expect(ticksWhilePending).toBeGreaterThan(0);
  });

  it('reports progress and rejects with ERR_ABORTED when aborted mid-way', async () => {
    const controller = new AbortController();
    const progress: number[] = [];
    const run = classStats(features, labels, {
      numClasses,
      scatter: true,
      signal: controller.signal,
      onProgress: (f) => {
        progress.push(f);
        controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'NcodError', code: 'ERR_ABORTED' });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toBeGreaterThan(0);
    expect(progress[0]).toBeLessThan(1);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(classStats(features, labels, { numClasses, signal: controller.signal })).rejects.toBeInstanceOf(
      NcodError,
    );
  });
});
