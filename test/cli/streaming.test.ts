// The CLI streams its inputs: tiny chunks (NCOD_CHUNK_ROWS) and shards give the numbers of one whole file; states
// saved per shard merge to the whole; scores are written chunk by chunk and never left half-written.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readNpy, writeNpy } from '../../lib/data/index.js';
import { detectors, type NcMetrics } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, tmpDir, vector } from './helpers.js';

const N = 257;
const DIM = 5;
const C = 4;
const dir = tmpDir();
const file = (name: string) => join(dir, name);
const data = clusters(N, DIM, C, 11, { shift: 3 });
const test = clusters(61, DIM, C, 12);
// Shard boundaries that do not line up with the chunk size (7) or with each other.
const CUTS = [0, 100, 101, 257];

function expectClose(got: NcMetrics, want: NcMetrics, relative: number): void {
  for (const [key, value] of Object.entries(want)) {
    const v = got[key as keyof NcMetrics];
    if (value === null) expect(v, key).toBeNull();
    else expect(Math.abs((v as number) - value), key).toBeLessThanOrEqual(relative * Math.abs(value) + 1e-14);
  }
}

const previousChunkRows = process.env.NCOD_CHUNK_ROWS;

beforeAll(async () => {
  await writeNpy(file('x.npy'), matrix(data.features, DIM));
  await writeNpy(file('y.npy'), vector(data.labels));
  await writeNpy(file('test.npy'), matrix(test.features, DIM));
  for (let k = 0; k + 1 < CUTS.length; k++) {
    const [a, b] = [CUTS[k], CUTS[k + 1]];
    await writeNpy(file(`part-${k}.npy`), matrix(data.features.subarray(a * DIM, b * DIM), DIM));
    await writeNpy(file(`labels-${k}.npy`), vector(data.labels.subarray(a, b)));
  }
  // Labels sharded differently from the features: two files.
  await writeNpy(file('ya.npy'), vector(data.labels.subarray(0, 50)));
  await writeNpy(file('yb.npy'), vector(data.labels.subarray(50)));
  const bad = test.features.slice();
  bad[59 * DIM + 1] = Number.NaN; // in the last chunk of 7
  await writeNpy(file('bad.npy'), matrix(bad, DIM));
}, 60_000);

afterAll(() => {
  if (previousChunkRows === undefined) delete process.env.NCOD_CHUNK_ROWS;
  else process.env.NCOD_CHUNK_ROWS = previousChunkRows;
});

describe('streaming CLI', () => {
  it('metrics in chunks of 7 rows, from shards, equal one whole file', () => {
    delete process.env.NCOD_CHUNK_ROWS;
    const whole = cliJson(['metrics', '--features', file('x.npy'), '--labels', file('y.npy')]) as NcMetrics;
    process.env.NCOD_CHUNK_ROWS = '7';
    const chunked = cliJson(['metrics', '--features', file('x.npy'), '--labels', file('y.npy')]) as NcMetrics;
    const sharded = cliJson(['metrics', '--features', file('part-*.npy'), '--labels', `${file('ya.npy')},${file('yb.npy')}`]) as NcMetrics;
    expect(chunked.n).toBe(N);
    expectClose(chunked, whole, 1e-10);
    expectClose(sharded, whole, 1e-10);
  });

  it('--save-state per shard, then ncod merge, equals one pass over everything', () => {
    process.env.NCOD_CHUNK_ROWS = '7';
    const whole = cliJson(['metrics', '--features', file('x.npy'), '--labels', file('y.npy')]) as NcMetrics;
    for (let k = 0; k + 1 < CUTS.length; k++) {
      // A shard may miss classes (part-1 has one row): --state-only writes its state without its own metrics.
      const args = ['metrics', '--features', file(`part-${k}.npy`), '--labels', file(`labels-${k}.npy`), '--num-classes', String(C), '--save-state', file(`part-${k}.ncstate`), '--state-only'];
      const summary = cliJson(args) as { n: number; emptyClasses: number };
      expect(summary.n).toBe(CUTS[k + 1] - CUTS[k]);
      if (k === 1) expect(summary.emptyClasses).toBe(C - 1);
    }
    const merged = cliJson(['merge', file('part-0.ncstate'), file('part-1.ncstate'), file('part-2.ncstate')]) as NcMetrics;
    expectClose(merged, whole, 1e-10);
  });

  it('score writes chunk by chunk: the scores of one whole pass, to the last bit', async () => {
    process.env.NCOD_CHUNK_ROWS = '7';
    cliJson(['score', '--method', 'mahalanobis', '--fit-features', file('x.npy'), '--fit-labels', file('y.npy'), '--features', file('test.npy'), '--out', file('scores.npy')]);
    const detector = await detectors.mahalanobis().fit({ features: data.features, labels: data.labels, numClasses: C });
    const want = await detector.score(test.features);
    const got = (await readNpy(file('scores.npy'))).data as Float64Array;
    expect(got.length).toBe(want.length);
    // Per-row scores; only BLAS blocking of 7-row chunks vs 61 rows may move the last bit (measured: 2e-16).
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-12 * Math.abs(want[i])));
  });

  it('a failure in a late chunk leaves no output and no temp file behind', () => {
    process.env.NCOD_CHUNK_ROWS = '7';
    const before = readdirSync(dir).sort();
    expectCliError(['score', '--method', 'mahalanobis', '--fit-features', file('x.npy'), '--fit-labels', file('y.npy'), '--features', file('bad.npy'), '--out', file('never.npy')], 'ERR_NOT_FINITE');
    expect(existsSync(file('never.npy'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
