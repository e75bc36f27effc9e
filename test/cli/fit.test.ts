// `ncod fit` saves a detector that `ncod score --detector` scores exactly as `ncod score --method` fitting in place,
// with the calibration's threshold, p-values and flags; flags that a saved file fixes are refused beside it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { readNpy, writeNpy } from '../../lib/data/index.js';
import { detectors } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, runCli, tmpDir } from './helpers.js';

const dir = tmpDir();
const file = (name: string) => path.join(dir, name);
const [dim, C] = [12, 3];
const fit = clusters(250, dim, C, 1);
const calibration = clusters(120, dim, C, 2);
const check = clusters(300, dim, C, 3);
const test = clusters(90, dim, C, 4, { shift: 1 });
const normal = gaussian(rng(5));
const weights = Float32Array.from({ length: C * dim }, () => normal());
const logits = Float32Array.from({ length: 90 * C }, () => 2 * normal());

async function inputs(): Promise<void> {
  const write = (name: string, data: Float32Array | Int32Array, shape: number[]) =>
    writeNpy(file(name), data instanceof Int32Array ? { dtype: 'int32', shape, data } : { dtype: 'float32', shape, data });
  await write('fit.npy', fit.features, [250, dim]);
  await write('fit_y.npy', fit.labels, [250]);
  await write('cal.npy', calibration.features, [120, dim]);
  await write('check.npy', check.features, [300, dim]);
  await write('x.npy', test.features, [90, dim]);
  await write('w.npy', weights, [C, dim]);
  await write('z.npy', logits, [90, C]);
  await write('zcal.npy', Float32Array.from({ length: 40 * C }, () => 2 * normal()), [40, C]);
}

const read = async (name: string) => (await readNpy(file(name))).data as Float64Array | Uint8Array;

describe('ncod fit', () => {
  it('fit → score --detector equals score --method, and the calibration gives threshold, p-values and flags', async () => {
    await inputs();
    const fitted = cliJson([
      'fit', '--method', 'mahalanobis', '--features', file('fit.npy'), '--labels', file('fit_y.npy'),
      '--calibrate', file('cal.npy'), '--tpr', '0.9', '--check', file('check.npy'), '--layer', 'enc2', '--out', file('maha.ncod'),
    ]) as { input: unknown; calibration: { rank: number; n: number; threshold: number }; check: { tpr: number; low: number; high: number; n: number } };
    expect(fitted.input).toEqual({ name: 'features', dim });
    expect(fitted.calibration).toMatchObject({ n: 120, rank: 12 }); // ⌊121 × 0.1⌋
    expect(fitted.check.n).toBe(300);
    expect(fitted.check.low).toBeLessThanOrEqual(fitted.check.tpr);
    expect(fitted.check.tpr).toBeGreaterThan(0.8);

    const saved = cliJson(['score', '--detector', file('maha.ncod'), '--features', file('x.npy'), '--out', file('s1.npy'), '--p-values', file('p.npy'), '--is-ood', file('o.npy')]) as { oodRate: number };
    cliJson(['score', '--method', 'mahalanobis', '--fit-features', file('fit.npy'), '--fit-labels', file('fit_y.npy'), '--features', file('x.npy'), '--out', file('s2.npy')]);
    const [s1, s2, p, o] = [await read('s1.npy'), await read('s2.npy'), await read('p.npy'), await read('o.npy')];
    expect(Buffer.from(s1.buffer).equals(Buffer.from(s2.buffer))).toBe(true);

    const det = await detectors.load(file('maha.ncod'));
    expect(det.layer).toBe('enc2');
    const decisions = await det.decide(test.features);
    expect(Array.from(p)).toEqual(Array.from(decisions.pValue));
    expect(Array.from(o)).toEqual(Array.from(decisions.isOOD));
    expect(saved.oodRate).toBeCloseTo(decisions.isOOD.reduce((a, b) => a + b, 0) / 90, 12);
    expect(saved.oodRate).toBeGreaterThan(0.3); // the test rows are shifted away from the ID clusters
  });

  it('logit detectors: with a head they score features, without one logits of --num-classes width', async () => {
    await inputs();
    cliJson(['fit', '--method', 'energy', '--temperature', '1.5', '--weights', file('w.npy'), '--out', file('energy.ncod')]);
    cliJson(['score', '--detector', file('energy.ncod'), '--features', file('x.npy'), '--out', file('e1.npy')]);
    const direct = await detectors.energy({ temperature: 1.5 }).score({ features: test.features, weights, numClasses: C });
    expect(Array.from(await read('e1.npy'))).toEqual(Array.from(direct));

    cliJson(['fit', '--method', 'gen', '--num-classes', String(C), '--calibrate', file('zcal.npy'), '--out', file('gen.ncod')]);
    cliJson(['score', '--detector', file('gen.ncod'), '--logits', file('z.npy'), '--out', file('g1.npy')]);
    cliJson(['score', '--method', 'gen', '--logits', file('z.npy'), '--out', file('g2.npy')]);
    expect(Array.from(await read('g1.npy'))).toEqual(Array.from(await read('g2.npy')));
    // A logit detector does not take features, nor features of another width.
    expectCliError(['score', '--detector', file('gen.ncod'), '--features', file('x.npy'), '--out', file('g3.npy')], 'ERR_INVALID_ARGUMENT');
  });

  it('entropy and --covariance pinv: the CLI fits what the API fits, and the file keeps the covariance', async () => {
    await inputs();
    cliJson(['fit', '--method', 'entropy', '--temperature', '0.7', '--num-classes', String(C), '--out', file('entropy.ncod')]);
    cliJson(['score', '--detector', file('entropy.ncod'), '--logits', file('z.npy'), '--out', file('h1.npy')]);
    const entropy = await detectors.entropy({ temperature: 0.7 }).score({ logits, numClasses: C });
    expect(Array.from(await read('h1.npy'))).toEqual(Array.from(entropy));

    const fitArgs = ['--fit-features', file('fit.npy'), '--fit-labels', file('fit_y.npy')];
    cliJson(['fit', '--method', 'mahalanobis++', '--covariance', 'pinv', '--features', file('fit.npy'), '--labels', file('fit_y.npy'), '--out', file('pinv.ncod')]);
    cliJson(['score', '--detector', file('pinv.ncod'), '--features', file('x.npy'), '--out', file('p1.npy')]);
    cliJson(['score', '--method', 'mahalanobis++', '--covariance', 'pinv', ...fitArgs, '--features', file('x.npy'), '--out', file('p2.npy')]);
    const pinv = await (await detectors.mahalanobisPlusPlus({ covariance: 'pinv' }).fit({ features: fit.features, labels: fit.labels, numClasses: C })).score(test.features);
    const [p1, p2] = [await read('p1.npy'), await read('p2.npy')];
    expect(Buffer.from(p1.buffer).equals(Buffer.from(p2.buffer))).toBe(true);
    // The CLI fits from streamed chunks (moments), the API call here from the array: equal up to float64 rounding.
    for (let i = 0; i < pinv.length; i++) expect(Math.abs(p1[i] - pinv[i])).toBeLessThanOrEqual(1e-12 * Math.abs(pinv[i]));
    expect((await detectors.load(file('pinv.ncod'))).fittedState().hyperparameters).toMatchObject({ covariance: 'pinv' });
    // A usage error from commander's choices, as for --backend: its message names the allowed values.
    const bad = runCli(['score', '--method', 'mahalanobis', '--covariance', 'lu', ...fitArgs, '--features', file('x.npy'), '--out', file('p3.npy')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("Allowed choices are ridge, pinv");
    // --ridge has no meaning with --covariance pinv: refused, not ignored.
    const both = expectCliError(['fit', '--method', 'mahalanobis', '--covariance', 'pinv', '--ridge', '1e-3', '--features', file('fit.npy'), '--labels', file('fit_y.npy'), '--out', file('both.ncod')], 'ERR_INVALID_ARGUMENT');
    expect(both).toContain("no ridge with covariance 'pinv'");
    expect(existsSync(file('both.ncod'))).toBe(false);
  });

  it('refuses what would be silently ignored or wasted', async () => {
    await inputs();
    cliJson(['fit', '--method', 'knn', '--k', '5', '--features', file('fit.npy'), '--out', file('knn.ncod')]);
    expectCliError(['score', '--detector', file('knn.ncod'), '--k', '9', '--features', file('x.npy'), '--out', file('k.npy')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['score', '--detector', file('knn.ncod'), '--method', 'knn', '--features', file('x.npy'), '--out', file('k.npy')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['score', '--detector', file('knn.ncod'), '--features', file('z.npy'), '--out', file('k.npy')], 'ERR_SHAPE');
    expectCliError(['score', '--detector', file('knn.ncod'), '--features', file('x.npy'), '--out', file('k.npy'), '--is-ood', file('f.npy')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['fit', '--method', 'knn', '--features', file('fit.npy'), '--out', file('no/such/dir/knn.ncod')], 'ERR_IO');
    expectCliError(['fit', '--method', 'knn', '--features', file('fit.npy'), '--check', file('check.npy'), '--out', file('k2.ncod')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['fit', '--method', 'knn', '--features', file('fit.npy'), '--calibrate', file('fit_y.npy'), '--out', file('k2.ncod')], 'ERR_SHAPE');
    expectCliError(['score', '--detector', file('fit.npy'), '--features', file('x.npy'), '--out', file('k.npy')], 'ERR_FILE_FORMAT');
  });
});
