// `ncod merge` end to end: shard states written by ncod and by scripts/python/ncstate.py merge to the metrics of one
// pass over all the data, and every refusal has its code.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { NcAccumulator, ncMetrics, type NcMetrics } from '../../lib/index.js';
import { expectMetricsClose } from '../helpers/nc-close.js';
import { WRITE_STATE_PY, noPythonReason, numpyPython, runNcstatePython } from '../helpers/ncstate-python.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, runCli, saveNpy, tmpDir, vector } from './helpers.js';

const N = 1800;
const DIM = 16;
const C = 4;
const SHARDS: [number, number][] = [[0, 500], [500, 1300], [1300, N]];

const dir = tmpDir();
const data = clusters(N, DIM, C, 21, { separation: 2, shift: 2 });
const ood = clusters(300, DIM, 2, 22, { shift: 1 }).features;
const normal = gaussian(rng(23));
const weights = Float32Array.from({ length: C * DIM }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());
const files: Record<string, string> = {};

/** Shard k's rows; the OOD rows are split over the shards the same way. */
function shard(k: number) {
  const [a, b] = SHARDS[k];
  const oodRows = ood.length / DIM;
  const [oa, ob] = [Math.floor((k * oodRows) / 3), Math.floor(((k + 1) * oodRows) / 3)];
  return { features: data.features.subarray(a * DIM, b * DIM), labels: data.labels.subarray(a, b), ood: ood.subarray(oa * DIM, ob * DIM) };
}

async function nodeShard(k: number, path: string): Promise<string> {
  const s = shard(k);
  const acc = new NcAccumulator({ dim: DIM, numClasses: C });
  await acc.add(s.features, s.labels);
  await acc.addOod(s.ood);
  await acc.save(path);
  return path;
}

beforeAll(async () => {
  files.weights = await saveNpy(dir, 'W', matrix(weights, DIM));
  files.bias = await saveNpy(dir, 'b', vector(bias));
  files.weightsT = await saveNpy(dir, 'WT', { dtype: 'float32', shape: [DIM, C], data: weights });
  for (const k of [0, 1, 2]) files[`node${k}`] = await nodeShard(k, join(dir, `node${k}.ncstate`));
  const other = async (name: string, dim: number, classes: number) => {
    const acc = new NcAccumulator({ dim, numClasses: classes });
    await acc.add(new Float32Array(classes * dim).map((_, i) => Math.sin(i)), Int32Array.from({ length: classes }, (_, i) => i));
    await acc.save((files[name] = join(dir, `${name}.ncstate`)));
  };
  await other('wideDim', DIM + 1, C);
  await other('moreClasses', DIM, C + 1);
  const partial = new NcAccumulator({ dim: DIM, numClasses: C });
  await partial.add(data.features.subarray(0, DIM), data.labels.subarray(0, 1)); // one sample: the other classes empty
  await partial.save((files.partial = join(dir, 'partial.ncstate')));
  const damaged = readFileSync(files.node0);
  damaged[damaged.length - 1] ^= 4;
  writeFileSync((files.damaged = join(dir, 'damaged.ncstate')), damaged);
});

// The in-memory ncMetrics projects the class-centred rows on a float32 copy of the subspace basis in its second
// pass (native/core/nc_metrics.cpp, a float32 GEMM for speed), so its nc1 carries float32 rounding (about 1e-8
// relative here); every other metric agrees with the states' float64 route to 1e-12. nc4_ncc_agreement needs the
// samples: null from states.
const IN_MEMORY = { skipNc4: true, looser: { nc1: 1e-7 } };

/** One pass over all the data: an accumulator, and the in-memory ncMetrics. */
async function onePass(options: { weights?: Float32Array; bias?: Float32Array; weightedGlobalMean?: boolean } = {}) {
  const acc = new NcAccumulator({ dim: DIM, numClasses: C });
  await acc.add(data.features, data.labels);
  await acc.addOod(ood);
  const streamed = await acc.finalize(options);
  const inMemory = await ncMetrics({ ...data, numClasses: C, dim: DIM, oodFeatures: ood, ...options });
  return { streamed, inMemory };
}

describe('ncod merge', () => {
  it('three ncod shards merge to the metrics of one pass over all the data; --save-state writes the merged state', async () => {
    const saved = join(dir, 'merged.ncstate');
    const got = cliJson(['merge', files.node0, files.node1, files.node2, '--weights', files.weights, '--bias', files.bias, '--save-state', saved]) as NcMetrics;
    const { streamed, inMemory } = await onePass({ weights, bias });
    expectMetricsClose(got, streamed, 1e-12);
    expectMetricsClose(got, inMemory, 1e-12, IN_MEMORY);
    expect(got.nc4_ncc_agreement).toBeNull();
    expect(got.n).toBe(N);
    expectMetricsClose(await (await NcAccumulator.load(saved)).finalize({ weights, bias }), streamed, 1e-12);
  });

  describe.skipIf(!numpyPython)(`with shards from scripts/python/ncstate.py${noPythonReason ? ` (${noPythonReason})` : ''}`, () => {
    it('ncod and Python shards merge to the one-pass metrics (1e-12), also with --weighted-global-mean', async () => {
      const k = 1;
      const s = shard(k);
      const x = await saveNpy(dir, 'x1', matrix(s.features, DIM));
      const y = await saveNpy(dir, 'y1', vector(s.labels));
      const o = await saveNpy(dir, 'ood1', matrix(s.ood, DIM));
      const py = join(dir, 'py1.ncstate');
      const rows = s.labels.length;
      runNcstatePython(WRITE_STATE_PY, [x, y, o, py, String(C), JSON.stringify([[0, 100], [100, rows]])]);
      for (const extra of [[], ['--weighted-global-mean']]) {
        const got = cliJson(['merge', files.node0, py, files.node2, '--weights', files.weights, ...extra]) as NcMetrics;
        const { streamed, inMemory } = await onePass({ weights, weightedGlobalMean: extra.length > 0 });
        expectMetricsClose(got, streamed, 1e-12);
        expectMetricsClose(got, inMemory, 1e-12, IN_MEMORY);
      }
      // A state Python merged from an ncod shard and its own.
      const pyMerged = join(dir, 'py-merged.ncstate');
      runNcstatePython('from ncstate import NcState\na, b = NcState.load(sys.argv[1]), NcState.load(sys.argv[2])\na.merge(b)\na.save(sys.argv[3])', [files.node0, py, pyMerged]);
      const got = cliJson(['merge', pyMerged, files.node2, '--weights', files.weights, '--bias', files.bias]) as NcMetrics;
      expectMetricsClose(got, (await onePass({ weights, bias })).streamed, 1e-12);
    });
  });

  it('prints the table `ncod metrics` prints, without the metrics states cannot give', () => {
    const r = runCli(['merge', files.node0, files.node1, files.node2]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [header, , row] = r.stdout.trim().split('\n');
    expect(header.split(/\s+/).slice(0, 5)).toEqual(['merged', 'n', 'dim', 'classes', 'rank']);
    expect(header).toContain('nc1_cdnv');
    expect(header).not.toContain('nc4_ncc_agreement');
    expect(header).not.toContain('nc3_self_duality'); // no --weights
    expect(row).toMatch(/^3 states\s+1800\s+16\s+4\s/);
  });

  it('--help shows an example and says nc4_ncc_agreement is null from states', () => {
    const r = runCli(['merge', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('$ ncod merge part0.ncstate');
    expect(r.stdout).toMatch(/nc4_ncc_agreement[\s\S]*null/);
    expect(r.stdout).toContain('docs/ncstate.md');
  });

  it('refuses states of a different dim or class count with ERR_SHAPE naming both files', () => {
    for (const name of ['wideDim', 'moreClasses']) {
      const stderr = expectCliError(['merge', files.node0, files[name]], 'ERR_SHAPE');
      expect(stderr).toContain(files[name]);
      expect(stderr).toContain(`like ${files.node0}`);
    }
    expect(expectCliError(['merge', files.node0, files.wideDim], 'ERR_SHAPE')).toContain(`expected dim ${DIM} and ${C} classes like ${files.node0}, got dim ${DIM + 1} and ${C} classes`);
  });

  it('refuses a damaged state (ERR_FILE_FORMAT), a missing one, bad classifier files and output folders', () => {
    expect(expectCliError(['merge', files.node1, files.damaged], 'ERR_FILE_FORMAT')).toContain(`NC state ${files.damaged}: expected contents matching the recorded SHA-256`);
    expect(expectCliError(['merge', join(dir, 'nope.ncstate')], 'ERR_INVALID_ARGUMENT')).toContain('nope.ncstate');
    expectCliError(['merge', files.node0, '--bias', files.bias], 'ERR_INVALID_ARGUMENT');
    expect(expectCliError(['merge', files.node0, files.node1, join(dir, '.', 'node0.ncstate')], 'ERR_INVALID_ARGUMENT')).toContain('each file once');
    expect(expectCliError(['merge', files.node0, '--weights', files.weightsT], 'ERR_SHAPE')).toContain(`shape [${C}, ${DIM}]`);
    expectCliError(['merge', files.node0, '--save-state', join(dir, 'no-folder', 'm.ncstate')], 'ERR_IO');
    expectCliError(['merge', files.node0, '--weights', files.weights, '--bias', files.weights], 'ERR_SHAPE');
    const usage = runCli(['merge']);
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toMatch(/missing required argument/);
  });

  it('a merged state with an empty class: --save-state still written, the metrics ERR_EMPTY_CLASS', () => {
    const saved = join(dir, 'partial-merged.ncstate');
    expectCliError(['merge', files.partial, '--save-state', saved], 'ERR_EMPTY_CLASS');
    expect(existsSync(saved)).toBe(true);
  });
});
