// covariance: 'pinv' for the Mahalanobis family vs scikit-learn: EmpiricalCovariance's precision_ (scipy's pinvh,
// default cut) of the within-class residuals (and, when relative, of the features), float64. The data are
// rank-deficient exactly, even in float32: two columns are zero and two copy others, so the covariance has four null
// directions. Test rows leave that subspace, which is where pinv (distance in the range only) and any ridge
// (null directions penalised by 1/(ridge·λ_max)) part.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { l2NormalizeRows } from '../../lib/ood/normalize.js';
import { findPython } from '../helpers/python.js';
import { gaussian, rng } from '../helpers/random.js';

const N = 600, D = 12, C = 3, RANK = 8, Q = 97;

/** Rows of RANK Gaussian columns around class means; columns 8, 11 are zero, 9 = column 0, 10 = column 3. */
function rankDeficient(rows: number, seed: number, labels: Int32Array | undefined, offSubspace: number): Float32Array {
  const normal = gaussian(rng(seed));
  const x = new Float32Array(rows * D);
  for (let i = 0; i < rows; i++) {
    const r = x.subarray(i * D, (i + 1) * D);
    const c = labels ? labels[i] : i % C;
    for (let j = 0; j < RANK; j++) r[j] = normal() * (1 + j / 4) + (j % C === c ? 3 : 0);
    r[9] = r[0];
    r[10] = r[3];
    for (const j of [8, 9, 10, 11]) r[j] += offSubspace * normal(); // test rows only
  }
  return x;
}

const labels = Int32Array.from({ length: N }, (_, i) => (i * 7) % C);
const fitX = rankDeficient(N, 1, labels, 0);
const testX = rankDeficient(Q, 2, undefined, 0.5);

const SCRIPT = String.raw`
import sys
import numpy as np
from sklearn.covariance import EmpiricalCovariance
d, C, relative = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
x = np.load(d + '/x.npy').astype(np.float64)
y = np.load(d + '/y.npy')
q = np.load(d + '/q.npy').astype(np.float64)
means = np.stack([x[y == c].mean(axis=0) for c in range(C)])
precision = EmpiricalCovariance().fit(x - means[y]).precision_  # scipy.linalg.pinvh of the MLE covariance
md = np.stack([np.einsum('ij,jk,ik->i', q - m, precision, q - m) for m in means], axis=1)
score = -md.min(axis=1)
if relative:
    g = EmpiricalCovariance().fit(x)
    score = -(md - np.einsum('ij,jk,ik->i', q - g.location_, g.precision_, q - g.location_)[:, None]).min(axis=1)
np.save(d + '/scores.npy', score)
`;

async function sklearnScores(x: Float32Array, q: Float32Array, relative: boolean): Promise<Float64Array> {
  const { writeNpy, readNpy } = await import('../../lib/data/index.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'ncod-pinv-'));
  try {
    await writeNpy(path.join(dir, 'x.npy'), { dtype: 'float32', shape: [x.length / D, D], data: x });
    await writeNpy(path.join(dir, 'y.npy'), { dtype: 'int32', shape: [N], data: labels });
    await writeNpy(path.join(dir, 'q.npy'), { dtype: 'float32', shape: [q.length / D, D], data: q });
    writeFileSync(path.join(dir, 'run.py'), SCRIPT);
    execFileSync(findPython(['numpy', 'sklearn']), [path.join(dir, 'run.py'), dir, String(C), relative ? '1' : '0'], { encoding: 'utf8' });
    return (await readNpy(path.join(dir, 'scores.npy'))).data as Float64Array;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function maxRelativeError(got: Float64Array, want: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-300));
  return worst;
}

const variants = [
  { name: 'mahalanobis', make: detectors.mahalanobis, relative: false, normalize: false },
  { name: 'relative-mahalanobis', make: detectors.relativeMahalanobis, relative: true, normalize: false },
  { name: 'mahalanobis++', make: detectors.mahalanobisPlusPlus, relative: false, normalize: true },
  { name: 'relative-mahalanobis++', make: detectors.relativeMahalanobisPlusPlus, relative: true, normalize: true },
] as const;

describe("covariance: 'pinv' equals scikit-learn's EmpiricalCovariance (pinvh) on rank-deficient features", () => {
  for (const v of variants) {
    it(`${v.name}: array fit and batch fit to 1e-9 relative; ridge differs`, async () => {
      // The ++ variants normalise inside; the reference gets the same float32 normalised rows.
      const x = v.normalize ? l2NormalizeRows(fitX, D) : fitX;
      const q = v.normalize ? l2NormalizeRows(testX, D) : testX;
      const want = await sklearnScores(x, q, v.relative);

      const array = await v.make({ covariance: 'pinv' }).fit({ features: fitX, labels, numClasses: C });
      expect(array.dim).toBe(D);
      expect(maxRelativeError(await array.score(testX), want)).toBeLessThanOrEqual(1e-9);

      const batches = [0, 1, 7, 100, 333, N].slice(1).map((end, k, ends) => {
        const start = k === 0 ? 0 : ends[k - 1];
        return { features: fitX.subarray(start * D, end * D), labels: labels.subarray(start, end) };
      });
      const streamed = await v.make({ covariance: 'pinv' }).fit({ batches, numClasses: C });
      expect(maxRelativeError(await streamed.score(testX), want)).toBeLessThanOrEqual(1e-9);

      // The default ridge penalises the null directions the test rows leave into: far from pinv, even at ridge 1e-12.
      for (const ridge of [1e-6, 1e-12]) {
        const ridged = await v.make({ ridge }).fit({ features: fitX, labels, numClasses: C });
        expect(maxRelativeError(await ridged.score(testX), want)).toBeGreaterThan(1);
      }
    });
  }

  it('pinv is saved in the file and restored by detectors.load; a file without it loads as ridge', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ncod-pinv-file-'));
    try {
      const pinv = await detectors.relativeMahalanobis({ covariance: 'pinv' }).fit({ features: fitX, labels, numClasses: C });
      expect(pinv.fittedState().hyperparameters).toMatchObject({ covariance: 'pinv' });
      const file = path.join(dir, 'pinv.ncod');
      await pinv.save(file);
      const loaded = await detectors.load(file);
      expect(loaded.fittedState().hyperparameters).toMatchObject({ covariance: 'pinv' });
      expect(Array.from(await loaded.score(testX))).toEqual(Array.from(await pinv.score(testX)));

      // An older file: hyperparameters { ridge } only (fromState is what load calls after its checks).
      const ridge = await detectors.mahalanobis().fit({ features: fitX, labels, numClasses: C });
      const state = ridge.fittedState();
      const { Mahalanobis } = await import('../../lib/ood/detectors/mahalanobis.js');
      const old = Mahalanobis.fromState({ ...state, hyperparameters: { ridge: 1e-6 } });
      expect(old.fittedState().hyperparameters).toMatchObject({ covariance: 'ridge' });
      expect(() => Mahalanobis.fromState({ ...state, hyperparameters: { ridge: 1e-6, covariance: 'lu' } })).toThrow(expect.objectContaining({ code: 'ERR_FILE_FORMAT' }));
      // A file written before 'pinv' refused a ridge: the unused default beside it is dropped, not refused.
      const before = Mahalanobis.fromState({ ...pinv.fittedState(), hyperparameters: { ridge: 1e-6, covariance: 'pinv' } });
      expect(before.fittedState().hyperparameters).toEqual({ covariance: 'pinv' });
      expect(Array.from(await before.score(testX))).toEqual(Array.from(await pinv.score(testX)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a ridge with covariance 'pinv' is refused in TS and in C++, not ignored", async () => {
    const refused = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("no ridge with covariance 'pinv'") });
    expect(() => detectors.mahalanobis({ covariance: 'pinv', ridge: 1e-3 })).toThrow(refused);
    expect(() => detectors.relativeMahalanobisPlusPlus({ covariance: 'pinv', ridge: 0 })).toThrow(refused);
    const { native } = await import('../../lib/native.js');
    const common = { features: fitX, labels, rows: N, dim: D, numClasses: C, relative: false };
    expect(() => native().mahalanobisFit({ ...common, covariance: 'pinv', ridge: 1e-3 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("options.ridge: expected no ridge with covariance 'pinv'") }),
    );
    // The ridge alone, or 'pinv' alone, is still taken.
    await expect(native().mahalanobisFit({ ...common, covariance: 'ridge', ridge: 1e-3 })).resolves.toBeDefined();
    await expect(native().mahalanobisFit({ ...common, covariance: 'pinv' })).resolves.toBeDefined();
  });

  it('an unknown covariance is ERR_INVALID_ARGUMENT in TS and in C++', async () => {
    expect(() => detectors.mahalanobis({ covariance: 'lu' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('expected one of ridge, pinv') }));
    const { native } = await import('../../lib/native.js');
    const common = { features: fitX, labels, rows: N, dim: D, numClasses: C, relative: false };
    for (const covariance of ['lu', 1, 'Pinv']) {
      expect(() => native().mahalanobisFit({ ...common, covariance: covariance as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("options.covariance: expected one of 'ridge', 'pinv'") }),
      );
    }
  });
});
