// bench ood on streamed inputs: the spec's features read in tiny chunks (NCOD_CHUNK_ROWS), with the train rows in
// two shards (a glob) and an OOD set as a comma list, give the in-memory table cell for cell; and the detectors that
// share a fitted state (ood-fits.ts) give the cells of their own fits.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { memoryRows } from '../../lib/bench/ood-rows.js';
import { loadOodSpec, type OodBenchData } from '../../lib/bench/ood-spec.js';
import { CELL_METRICS, defaultHyperparameters, runOodTable } from '../../lib/bench/ood-table.js';
import type { FeatureFileSource } from '../../lib/data/stream/source.js';
import { evaluateOOD } from '../../lib/ood/evaluate.js';
import { fitMethod } from '../../lib/ood/fit-method.js';
import type { Method } from '../../lib/ood/method-names.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { matrix, saveNpy, tmpDir, vector } from '../cli/helpers.js';

const [C, dim] = [3, 9];
const normal = gaussian(rng(21));
// 61 train rows (a prime: no chunk size divides it), the shards 40 + 21 rows.
const train = clusters(61, dim, C, 1);
const test = clusters(37, dim, C, 2);
const near = clusters(29, dim, C, 3, { shift: 0.7 }).features;
const far = Float32Array.from({ length: 23 * dim }, () => 3 * normal());
const head = { weights: Float32Array.from({ length: C * dim }, () => normal()), bias: Float32Array.from({ length: C }, () => normal()), numClasses: C };

function inMemory(): OodBenchData {
  return {
    trainLabels: train.labels,
    testLabels: test.labels,
    numClasses: C,
    layers: [{ name: 'enc', dim, train: memoryRows(train.features, dim), test: memoryRows(test.features, dim), head }],
    ood: [
      { name: 'near', group: 'near', layers: new Map([['enc', memoryRows(near, dim)]]) },
      { name: 'far', group: 'far', layers: new Map([['enc', memoryRows(far, dim)]]) },
    ],
  };
}

async function writeSpec(): Promise<string> {
  const dir = tmpDir();
  await saveNpy(dir, 'y_train', vector(train.labels));
  await saveNpy(dir, 'y_test', vector(test.labels));
  await saveNpy(dir, 'train-1', matrix(train.features.subarray(0, 40 * dim), dim));
  await saveNpy(dir, 'train-2', matrix(train.features.subarray(40 * dim), dim));
  await saveNpy(dir, 'test', matrix(test.features, dim));
  await saveNpy(dir, 'near-a', matrix(near.subarray(0, 10 * dim), dim));
  await saveNpy(dir, 'near-b', matrix(near.subarray(10 * dim), dim));
  await saveNpy(dir, 'far', matrix(far, dim));
  await saveNpy(dir, 'W', matrix(head.weights, dim));
  await saveNpy(dir, 'b', vector(head.bias));
  const spec = {
    labels: { train: 'y_train.npy', test: 'y_test.npy' },
    layers: { enc: { train: 'train-*.npy', test: 'test.npy', weights: 'W.npy', bias: 'b.npy' } },
    ood: { near: { group: 'near', layers: { enc: 'near-a.npy,near-b.npy' } }, far: { group: 'far', layers: { enc: 'far.npy' } } },
  };
  const file = path.join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

const strip = (cells: { detector: string; ood: string }[]) => cells.map((c) => ({ ...c })).sort((a, b) => `${a.detector}/${a.ood}`.localeCompare(`${b.detector}/${b.ood}`));

describe('bench ood from streamed, sharded inputs', () => {
  afterEach(() => {
    delete process.env.NCOD_CHUNK_ROWS;
  });

  it('gives the in-memory table cell for cell, read 7 rows at a time', async () => {
    const memory = await runOodTable(inMemory());
    process.env.NCOD_CHUNK_ROWS = '7';
    const data = await loadOodSpec(await writeSpec());
    expect(data.layers[0].train.rows).toBe(61);
    expect((data.layers[0].train as FeatureFileSource).chunkRows).toBe(7); // streamed, in chunks that cross the shards
    expect((data.layers[0].train as FeatureFileSource).features.parts).toHaveLength(2);
    expect(data.ood.find((s) => s.name === 'near')!.layers.get('enc')!.rows).toBe(29);
    const streamed = await runOodTable(data);
    expect(streamed.cells).toHaveLength(2 * 16);
    expect(strip(streamed.cells)).toEqual(strip(memory.cells));
    // NC1 from moments about a different first batch: equal up to float64 rounding.
    expect(Math.abs(streamed.layers[0].nc1! - memory.layers[0].nc1!)).toBeLessThanOrEqual(1e-9 * memory.layers[0].nc1!);
  });

  it.each(['mahalanobis', 'mahalanobis++', 'residual', 'nci'] as Method[])('the shared-state %s cells equal its own fit', async (method) => {
    const data = inMemory();
    const table = await runOodTable(data, { detectors: [method, 'relative-mahalanobis', 'relative-mahalanobis++', 'vim', 'fdbd'] });
    const hyper = defaultHyperparameters(method, data.layers[0], train.labels.length);
    const names = { features: 'f', labels: 'l', head: 'h', principalDim: 'p', logitWidth: 'w' };
    const own = await fitMethod(method, { features: train.features, labels: train.labels, dim, numClasses: C, head }, hyper, names);
    const id = await own.score(test.features);
    for (const [name, features] of [['near', near], ['far', far]] as const) {
      const report = await evaluateOOD(id, await own.score(features));
      const cell = table.cells.find((c) => c.detector === method && c.ood === name)!;
      for (const key of CELL_METRICS) expect(cell[key], `${method} ${name} ${key}`).toBe(report[key]);
    }
    own.dispose();
  });
});
