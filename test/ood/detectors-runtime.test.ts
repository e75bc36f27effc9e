// Detector calls run off the JS thread: progress reaches 1, and forking meanwhile (OpenBLAS's fork handler) hangs nothing.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';

describe('detector calls at run time', () => {
  const { features, labels } = clusters(6000, 256, 10, 11);

  it('report progress up to 1', async () => {
    const seen: number[] = [];
    const det = await detectors.mahalanobis().fit({ features, labels, numClasses: 10 }, { onProgress: (f) => seen.push(f) });
    await det.score(features, { onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((f) => f >= 0 && f <= 1)).toBe(true);
    expect(seen.at(-1)).toBe(1);
  });

  it('survive child processes spawned while they run', async () => {
    const maha = await detectors.relativeMahalanobis().fit({ features, labels, numClasses: 10 });
    const knn = await detectors.knn({ k: 10 }).fit({ features, dim: 256 });
    const weights = features.subarray(0, 10 * 256);
    for (let round = 0; round < 3; round++) {
      const work = Promise.all([
        maha.score(features),
        knn.score(features.subarray(0, 1000 * 256)),
        detectors.energy().score({ features, weights, numClasses: 10 }),
      ]);
      for (let k = 0; k < 5; k++) execFileSync('true');
      const [a, b, c] = await work;
      expect(a.length + b.length + c.length).toBe(6000 + 1000 + 6000);
    }
  }, 120_000);
});
