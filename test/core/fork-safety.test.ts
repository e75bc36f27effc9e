// Spawning child processes while native work runs must not hang it (OpenBLAS's pthreads pool is shut down
// by a fork handler; ncod never relies on that pool).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { classStats, ncMetrics } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';

describe('native work survives child processes spawned meanwhile', () => {
  it('classStats with scatter and ncMetrics complete while the JS thread forks repeatedly', async () => {
    const { features, labels } = clusters(4000, 512, 10, 3);
    for (let round = 0; round < 5; round++) {
      const work = Promise.all([
        classStats(features, labels, { numClasses: 10, scatter: true }),
        ncMetrics({ features, labels, numClasses: 10 }),
      ]);
      for (let k = 0; k < 5; k++) execFileSync('true');
      const [stats, nc] = await work;
      expect(stats.scatter).not.toBeNull();
      expect(nc.nc1).toBeGreaterThan(0);
    }
  }, 60_000);
});
