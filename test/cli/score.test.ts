// `ncod score` writes the same scores as the detectors called in-process.
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { readNpy, writeNpy } from '../../lib/data/index.js';
import { detectors } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, tmpDir } from './helpers.js';

const dir = tmpDir();
const file = (name: string) => path.join(dir, name);
const [dim, C] = [16, 4];
const fit = clusters(300, dim, C, 1);
const test = clusters(101, dim, C, 2);
const normal = gaussian(rng(3));
const weights = Float32Array.from({ length: C * dim }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());
const logits = Float32Array.from({ length: 101 * C }, () => 3 * normal());

async function inputs() {
  await writeNpy(file('fit.npy'), { dtype: 'float32', shape: [300, dim], data: fit.features });
  await writeNpy(file('fit_y.npy'), { dtype: 'int32', shape: [300], data: fit.labels });
  await writeNpy(file('x.npy'), { dtype: 'float32', shape: [101, dim], data: test.features });
  await writeNpy(file('w.npy'), { dtype: 'float32', shape: [C, dim], data: weights });
  await writeNpy(file('b.npy'), { dtype: 'float32', shape: [C], data: bias });
  await writeNpy(file('z.npy'), { dtype: 'float32', shape: [101, C], data: logits });
}

async function scoresOf(args: string[]): Promise<Float64Array> {
  const out = file(`${args.join('_').replace(/[^a-z0-9]/gi, '')}.npy`);
  const summary = cliJson(['score', ...args, '--out', out]) as { n: number };
  expect(summary.n).toBe(101);
  const t = await readNpy(out);
  expect(t.dtype).toBe('float64');
  return t.data as Float64Array;
}

describe('ncod score', () => {
  it('matches the in-process detectors', async () => {
    await inputs();
    const head = { weights, bias, numClasses: C };
    // The CLI streams its fit files, so its fits are the batch fits (one batch: the files are one chunk).
    const batches = [{ features: fit.features, labels: fit.labels }];
    const cases: [string[], Float64Array][] = [
      [['--method', 'energy', '--logits', file('z.npy'), '--temperature', '2'], await detectors.energy({ temperature: 2 }).score({ logits, numClasses: C })],
      [['--method', 'msp', '--features', file('x.npy'), '--weights', file('w.npy'), '--bias', file('b.npy')], await detectors.msp().score({ features: test.features, ...head })],
      [['--method', 'mahalanobis', '--fit-features', file('fit.npy'), '--fit-labels', file('fit_y.npy'), '--features', file('x.npy')],
        await (await detectors.mahalanobis().fit({ batches, numClasses: C })).score(test.features)],
      [['--method', 'knn', '--k', '7', '--fit-features', file('fit.npy'), '--features', file('x.npy')],
        await (await detectors.knn({ k: 7 }).fit({ features: fit.features, dim })).score(test.features)],
      [['--method', 'vim', '--principal-dim', '8', '--fit-features', file('fit.npy'), '--weights', file('w.npy'), '--bias', file('b.npy'), '--features', file('x.npy')],
        await (await detectors.vim({ principalDim: 8 }).fit({ batches, ...head })).score(test.features)],
      [['--method', 'fdbd', '--fit-features', file('fit.npy'), '--weights', file('w.npy'), '--features', file('x.npy')],
        await (await detectors.fdbd().fit({ batches, weights, numClasses: C })).score(test.features)],
    ];
    for (const [args, expected] of cases) expect(Array.from(await scoresOf(args)), args[1]).toEqual(Array.from(expected));
  });

  it('says what a method needs, and rejects mismatched inputs', async () => {
    await inputs();
    expectCliError(['score', '--method', 'mahalanobis', '--fit-features', file('fit.npy'), '--features', file('x.npy'), '--out', file('o.npy')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['score', '--method', 'knn', '--k', '301', '--fit-features', file('fit.npy'), '--features', file('x.npy'), '--out', file('o.npy')], 'ERR_INVALID_ARGUMENT');
    expectCliError(['score', '--method', 'knn', '--fit-features', file('fit.npy'), '--features', file('z.npy'), '--out', file('o.npy')], 'ERR_SHAPE');
    expectCliError(['score', '--method', 'energy', '--features', file('x.npy'), '--out', file('o.npy')], 'ERR_INVALID_ARGUMENT');
  });
});
