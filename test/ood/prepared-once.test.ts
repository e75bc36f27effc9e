// Fitted state is prepared once per backend (native/core/detectors/prepared_slots.h): scoring a fitted detector in
// many chunks, as the CLI streams a file, makes no new prepared objects after the first score; a refit, a load and
// a per-call head do. The count is the process-wide native counter preparedStateCount().
import { describe, expect, it } from 'vitest';
import { detectors } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const N = 200, D = 6, C = 3;
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const features = Float32Array.from({ length: N * D }, random);
const labels = Int32Array.from({ length: N }, (_, i) => i % C);
const weights = Float32Array.from({ length: C * D }, random);
const head = { weights, numClasses: C };

const fitted = {
  energy: () => detectors.energy().fit(head),
  react: () => detectors.react().fit({ features, ...head }),
  'relative-mahalanobis': () => detectors.relativeMahalanobis().fit({ features, labels, numClasses: C }),
  vim: () => detectors.vim({ principalDim: 2 }).fit({ features, ...head }),
  neco: () => detectors.neco({ principalDim: 2 }).fit({ features, ...head }),
  fdbd: () => detectors.fdbd().fit({ features, ...head }),
  knn: () => detectors.knn({ k: 3 }).fit({ features, dim: D }),
};
// Prepared objects of one first score: the head, the whitened centres (two when relative), or the bank. ViM's fit
// already scored through its head and projection (for α), so its first score prepares nothing.
const firstScore: Record<keyof typeof fitted, number> = { energy: 1, react: 1, 'relative-mahalanobis': 2, vim: 0, neco: 2, fdbd: 1, knn: 1 };

const count = () => native().preparedStateCount();

describe('fitted state is prepared once per backend', () => {
  for (const [method, fit] of Object.entries(fitted) as [keyof typeof fitted, () => Promise<{ score(x: Float32Array): Promise<Float64Array>; dispose(): void }>][]) {
    it(`${method}: 40 chunks of 5 rows prepare as much as the first score, and score as the whole array`, async () => {
      const detector = await fit();
      const before = count();
      const whole = await detector.score(features);
      expect(count() - before).toBe(firstScore[method]);
      const chunks: number[] = [];
      for (let r = 0; r < N; r += 5) chunks.push(...(await detector.score(features.subarray(r * D, (r + 5) * D))));
      expect(count() - before).toBe(firstScore[method]); // no chunk prepared again
      // The same scores (a BLAS product may block a 5-row chunk differently from 200 rows: last-bit differences).
      chunks.forEach((v, i) => expect(Math.abs(v - whole[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(whole[i]))));
      detector.dispose();
      detector.dispose(); // twice is harmless
      await expect(detector.score(features)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });
  }

  it('a head given per call (an unbound detector) is prepared per call: the counter sees each', async () => {
    const detector = detectors.energy();
    const before = count();
    for (let i = 0; i < 3; i++) await detector.score({ features, ...head });
    expect(count() - before).toBe(3);
  });
});
