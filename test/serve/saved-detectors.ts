// Real saved detectors for the server tests: a calibrated Mahalanobis and an uncalibrated KNN fitted on small random
// clusters, written with det.save() and read back with detectors.load().
import { join } from 'node:path';

import { detectors } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

export interface SavedDetectors {
  dir: string;
  dim: number;
  maha: string;
  knn: string;
  /** Rows to score (some far from the clusters, so some decisions are OOD). */
  test: Float32Array;
}

export async function saveDetectors(dim = 16): Promise<SavedDetectors> {
  const dir = tempDir('ncod-serve-');
  const train = clusters(600, dim, 4, 1);
  const heldOut = clusters(200, dim, 4, 2);
  const maha = await detectors.mahalanobis().fit({ features: train.features, labels: train.labels, numClasses: 4, dim });
  await maha.calibrate(heldOut.features, { tpr: 0.95 });
  await maha.save(join(dir, 'maha.ncod'));
  const knn = await detectors.knn({ k: 5 }).fit({ features: train.features, dim });
  await knn.save(join(dir, 'knn.ncod'));
  const near = clusters(40, dim, 4, 3).features;
  const far = clusters(24, dim, 4, 4, { shift: 4 }).features;
  const test = new Float32Array(near.length + far.length);
  test.set(near);
  test.set(far, near.length);
  return { dir, dim, maha: join(dir, 'maha.ncod'), knn: join(dir, 'knn.ncod'), test };
}
