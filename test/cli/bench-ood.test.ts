// `ncod bench ood` on a small spec: every applicable detector × layer × OOD set, each cell what `ncod score` +
// `ncod eval` give on the same arrays, the rankings and NC1 per layer; bad specs refused with codes.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { METHODS } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, runCli, matrix, saveNpy, tmpDir, vector } from './helpers.js';

const dir = tmpDir();
const [C, dEnc, dRaw] = [3, 16, 10];
const file = (name: string) => path.join(dir, `${name}.npy`);

interface Result {
  layers: { name: string; dim: number; nc1: number; gnc2: number | null; unc3: number | null; detectors: string[] }[];
  cells: { detector: string; layer: string; ood: string; group: string; auroc: number; fpr95: number; fpr95_ood_positive: number; aupr_in: number; aupr_out: number; ci?: Record<string, [number, number]> }[];
  hyperparameters: Record<string, Record<string, number>>;
  ranking: { perLayer: Record<string, { methods: string[]; blocks: number; meanRanks: number[] }>; overall: { methods: string[]; blocks: number } | null };
  averages: { detector: string; layer: string; group: string; sets: number }[];
}

beforeAll(async () => {
  const normal = gaussian(rng(9));
  const train = clusters(300, dEnc, C, 1);
  const test = clusters(150, dEnc, C, 2);
  await saveNpy(dir, 'y_train', vector(train.labels));
  await saveNpy(dir, 'y_test', vector(test.labels));
  await saveNpy(dir, 'enc_train', matrix(train.features, dEnc));
  await saveNpy(dir, 'enc_test', matrix(test.features, dEnc));
  await saveNpy(dir, 'W', matrix(Float32Array.from({ length: C * dEnc }, () => normal()), dEnc));
  await saveNpy(dir, 'b', vector(Float32Array.from({ length: C }, () => normal())));
  await saveNpy(dir, 'enc_near', matrix(clusters(120, dEnc, C, 3, { shift: 0.8 }).features, dEnc));
  await saveNpy(dir, 'enc_far', matrix(Float32Array.from({ length: 90 * dEnc }, () => 4 * normal()), dEnc));
  // A second layer without a head: the first 10 features.
  const slice = (x: Float32Array, rows: number) => Float32Array.from({ length: rows * dRaw }, (_, i) => x[Math.floor(i / dRaw) * dEnc + (i % dRaw)]);
  await saveNpy(dir, 'raw_train', matrix(slice(train.features, 300), dRaw));
  await saveNpy(dir, 'raw_test', matrix(slice(test.features, 150), dRaw));
  await saveNpy(dir, 'raw_near', matrix(slice(clusters(120, dEnc, C, 3, { shift: 0.8 }).features, 120), dRaw));
  // --sweep's validation OOD source: its own draw, none of the test OOD sets.
  const validation = clusters(100, dEnc, C, 4, { shift: 0.6 }).features;
  await saveNpy(dir, 'enc_val', matrix(validation, dEnc));
  await saveNpy(dir, 'raw_val', matrix(slice(validation, 100), dRaw));
  const spec = {
    labels: { train: 'y_train.npy', test: 'y_test.npy' },
    layers: { enc: { train: 'enc_train.npy', test: 'enc_test.npy', weights: 'W.npy', bias: 'b.npy' }, raw: { train: 'raw_train.npy', test: 'raw_test.npy' } },
    ood: { shifted: { group: 'near', layers: { enc: 'enc_near.npy', raw: 'raw_near.npy' } }, noise: { group: 'far', layers: { enc: 'enc_far.npy' } } },
  };
  writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
});

describe('ncod bench ood', () => {
  let result: Result;

  it('runs every detector (METHODS) on a layer with a head, the 5 that need none on a layer without, on every OOD set it has', () => {
    result = cliJson(['bench', 'ood', '--data', path.join(dir, 'spec.json'), '--bootstrap', '20']) as Result;
    expect(result.layers.map((l) => [l.name, l.dim, l.detectors.length])).toEqual([['enc', dEnc, METHODS.length], ['raw', dRaw, 5]]);
    expect(result.layers.find((l) => l.name === 'raw')!.detectors).toEqual(['mahalanobis', 'relative-mahalanobis', 'mahalanobis++', 'relative-mahalanobis++', 'knn']);
    expect(result.cells).toHaveLength(METHODS.length * 2 + 5);
    for (const cell of result.cells) {
      expect(METHODS).toContain(cell.detector);
      for (const key of ['auroc', 'fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out'] as const) {
        expect(cell[key]).toBeGreaterThanOrEqual(0);
        expect(cell[key]).toBeLessThanOrEqual(1);
        expect(cell.ci![key][0]).toBeLessThanOrEqual(cell.ci![key][1]);
      }
    }
    // Far noise is easy for the distance detectors.
    expect(result.cells.find((c) => c.detector === 'mahalanobis' && c.ood === 'noise')!.auroc).toBeGreaterThan(0.95);
    for (const layer of result.layers) expect(layer.nc1).toBeGreaterThan(0);
    expect(result.ranking.perLayer.enc.methods).toHaveLength(METHODS.length);
    expect(result.ranking.perLayer.enc.blocks).toBe(2);
    expect(result.ranking.overall).toMatchObject({ methods: ['mahalanobis', 'relative-mahalanobis', 'mahalanobis++', 'relative-mahalanobis++', 'knn'], blocks: 3 });
    expect(result.averages.find((a) => a.detector === 'knn' && a.layer === 'enc' && a.group === 'all')!.sets).toBe(2);
    expect(result.hyperparameters['enc/vim']).toEqual({ principalDim: 8 });
  });

  it("reports each layer's NC1, GNC2 and UNC3 as ncod metrics gives them on its train features (UNC3 only with a head)", () => {
    const metrics = (layer: string, extra: string[]) =>
      cliJson(['metrics', '--features', file(`${layer}_train`), '--labels', file('y_train'), ...extra]) as Record<string, number | null>;
    const enc = metrics('enc', ['--weights', file('W'), '--bias', file('b')]);
    const raw = metrics('raw', []);
    const byName = Object.fromEntries(result.layers.map((l) => [l.name, l]));
    expect(byName.enc.gnc2).toBeGreaterThan(0);
    expect(byName.enc.unc3).toBeGreaterThan(0);
    expect(byName.raw.unc3).toBeNull();
    // ncod metrics streams (float64 moments), bench ood has the arrays in memory: equal to rounding, not bits.
    const close = (a: number | null, b: number | null, what: string) => expect(Math.abs(a! - b!), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-6 * Math.abs(b!));
    for (const [layer, m] of [['enc', enc], ['raw', raw]] as const) {
      close(byName[layer].nc1, m.nc1, `${layer} nc1`);
      close(byName[layer].gnc2, m.gnc2_hyperspherical_uniformity, `${layer} gnc2`);
    }
    close(byName.enc.unc3, enc.unc3_uniform_duality, 'enc unc3');
  });

  it.each([
    ['knn', 'enc', 'noise', ['--k', '50', '--fit-features', file('enc_train'), '--features']],
    ['vim', 'enc', 'shifted', ['--principal-dim', '8', '--fit-features', file('enc_train'), '--weights', file('W'), '--bias', file('b'), '--features']],
    ['energy', 'enc', 'noise', ['--weights', file('W'), '--bias', file('b'), '--features']],
    ['mahalanobis++', 'raw', 'shifted', ['--fit-features', file('raw_train'), '--fit-labels', file('y_train'), '--features']],
    ['relative-mahalanobis', 'raw', 'shifted', ['--fit-features', file('raw_train'), '--fit-labels', file('y_train'), '--features']],
  ])('the %s cell of layer %s on %s equals ncod score + ncod eval', (detector, layer, ood, args) => {
    const scores = (name: string, features: string) => {
      cliJson(['score', '--method', detector, ...args, features, '--out', path.join(dir, `${name}.npy`)]);
      return path.join(dir, `${name}.npy`);
    };
    const id = scores(`s-${detector}-id`, file(`${layer}_test`));
    const oodFile = scores(`s-${detector}-ood`, file(`${layer}_${ood === 'noise' ? 'far' : 'near'}`));
    const report = cliJson(['eval', '--id-scores', id, '--ood-scores', oodFile]) as Record<string, number>;
    const cell = result.cells.find((c) => c.detector === detector && c.layer === layer && c.ood === ood)!;
    for (const key of ['auroc', 'fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out'] as const) expect(cell[key], key).toBe(report[key]);
  });

  it('refuses a spec with a layer the OOD set does not know, rows that do not match the labels, or a FIFO', () => {
    const write = (name: string, spec: unknown) => {
      writeFileSync(path.join(dir, name), JSON.stringify(spec));
      return path.join(dir, name);
    };
    const base = { labels: { train: 'y_train.npy', test: 'y_test.npy' }, layers: { enc: { train: 'enc_train.npy', test: 'enc_test.npy' } } };
    expectCliError(['bench', 'ood', '--data', write('a.json', { ...base, ood: { x: { layers: { nope: 'enc_far.npy' } } } })], 'ERR_INVALID_ARGUMENT');
    expectCliError(['bench', 'ood', '--data', write('b.json', { ...base, layers: { enc: { train: 'enc_test.npy', test: 'enc_test.npy' } }, ood: { x: { layers: { enc: 'enc_far.npy' } } } })], 'ERR_SHAPE');
    const fifo = path.join(dir, 'pipe.npy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const stderr = expectCliError(['bench', 'ood', '--data', write('c.json', { ...base, ood: { x: { layers: { enc: 'pipe.npy' } } } })], 'ERR_INVALID_ARGUMENT');
    expect(stderr).toContain('expected a regular file');
    expectCliError(['bench', 'ood', '--data', write('d.json', { ...base, ood: {} })], 'ERR_INVALID_ARGUMENT');
    expectCliError(['bench', 'ood', '--data', path.join(dir, 'spec.json'), '--detectors', 'knn,bogus'], 'ERR_INVALID_ARGUMENT');
    // --sweep's validation source must cover every layer, at the layer's width.
    const spec = JSON.parse(readFileSync(path.join(dir, 'spec.json'), 'utf8'));
    expectCliError(['bench', 'ood', '--data', write('e.json', { ...spec, validation: { layers: { enc: 'enc_val.npy' } } })], 'ERR_INVALID_ARGUMENT');
    expectCliError(['bench', 'ood', '--data', write('f.json', { ...spec, validation: { layers: { enc: 'enc_val.npy', raw: 'enc_val.npy' } } })], 'ERR_SHAPE');
  });

  it("--sweep with the spec's validation set: chosen values, the grid and the defaults' cells in JSON and in the table", () => {
    const spec = JSON.parse(readFileSync(path.join(dir, 'spec.json'), 'utf8'));
    const sweepSpec = path.join(dir, 'sweep.json');
    writeFileSync(sweepSpec, JSON.stringify({ ...spec, validation: { layers: { enc: 'enc_val.npy', raw: 'raw_val.npy' } } }));
    const args = ['bench', 'ood', '--data', sweepSpec, '--sweep', '--detectors', 'knn,react,energy'];
    const swept = cliJson([...args, '--json']) as Result & { sweep: { validation: string; choices: Record<string, { chosen: Record<string, number>; grid: { auroc: number }[] }>; defaultCells: Result['cells'] } };
    expect(swept.sweep.validation).toBe('spec');
    expect(Object.keys(swept.sweep.choices).sort()).toEqual(['enc/knn', 'enc/react', 'raw/knn']);
    for (const choice of Object.values(swept.sweep.choices)) expect(choice.grid.length).toBeGreaterThan(2);
    expect(swept.hyperparameters['enc/knn']).toEqual(swept.sweep.choices['enc/knn'].chosen);
    expect(swept.sweep.defaultCells.filter((c) => c.detector === 'knn')).toHaveLength(3); // enc × 2 sets, raw × 1
    const report = path.join(dir, 'report.html');
    const text = runCli([...args, '--report', report]);
    expect(text.status, text.stderr).toBe(0);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<title>ncod bench ood: sweep.json</title>');
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(6); // 2 sets × 2 metrics, a CD plot, NC1 vs FPR95
    expect(text.stdout).toContain("Sweep (validation AUROC: 10 % of ID train held out vs the spec's validation features; seed 0)");
    expect(text.stdout).toMatch(/enc\/knn\s+k=\d+/);
  });
});

describe('ncod bench ood --protocol', () => {
  it("ranks every layer of bench paper's two models (quick): all detectors where the classifier reads, the head-free ones elsewhere", () => {
    const r = cliJson(['bench', 'ood', '--protocol', 'fashion', '--quick', '--seeds', '0,1', '--detectors', 'knn,energy,mahalanobis']) as Result;
    const names = r.layers.map((l) => l.name);
    // --quick: encoder widths 64,64 → enc1, encoder; the NC-controlled model adds proj1 and the projector.
    for (const seed of [0, 1]) {
      expect(names).toEqual(expect.arrayContaining([`baseline.enc1@${seed}`, `baseline.encoder@${seed}`, `nc_control.encoder@${seed}`, `nc_control.projector@${seed}`]));
    }
    expect(names).toHaveLength(2 * (2 + 4));
    const detectorsOf = (name: string) => r.layers.find((l) => l.name === name)!.detectors.sort();
    expect(detectorsOf('baseline.encoder@0')).toEqual(['energy', 'knn', 'mahalanobis']); // the baseline's classifier reads its encoder
    expect(detectorsOf('nc_control.projector@1')).toEqual(['energy', 'knn', 'mahalanobis']);
    expect(detectorsOf('nc_control.encoder@0')).toEqual(['knn', 'mahalanobis']);
    const groups = new Map(r.cells.map((c) => [c.ood, c.group]));
    expect(Object.fromEntries(groups)).toEqual({ fashion_5_9: 'near', mnist: 'far' });
    for (const c of r.cells) expect(c.auroc).toBeGreaterThanOrEqual(0);
    expect(r.cells).toHaveLength(2 * (2 * 3 + 4 * 2) * 2); // seeds × (2 head layers × 3 + 4 others × 2 detectors) × 2 OOD sets
    expect(r.ranking.overall!.blocks).toBe(12 * 2); // layers × OOD sets over the detectors every layer has
  }, 240_000);

  it('takes exactly one of --data and --protocol, and the training flags only with --protocol', () => {
    expect(expectCliError(['bench', 'ood'], 'ERR_INVALID_ARGUMENT')).toContain('exactly one of them, got neither');
    expect(expectCliError(['bench', 'ood', '--protocol', 'mnist', '--data', 'x.json'], 'ERR_INVALID_ARGUMENT')).toContain('got both');
    expect(expectCliError(['bench', 'ood', '--data', path.join(dir, 'spec.json'), '--quick'], 'ERR_INVALID_ARGUMENT')).toContain('--quick with --data');
  });
});
