// Smoke test of `ncod bench paper --quick`: the JSON the issue specifies, on real MNIST / Fashion-MNIST.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import type { PaperResult } from '../../lib/bench/paper-types.js';
import { pearson } from '../../lib/bench/paper.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cliJson, expectCliError, runCli } from './helpers.js';

describe('ncod bench paper --quick', () => {
  for (const protocol of ['fashion', 'mnist'] as const) {
    it(`${protocol}: runs and reports every layer, OOD set, correlation and claim`, () => {
      const out = tempDir('ncod-paper-');
      const r = cliJson(['bench', 'paper', '--quick', '--json', '--protocol', protocol, '--out', out]) as PaperResult;
      const sets = protocol === 'fashion' ? ['fashion_5_9', 'mnist'] : ['mnist_5_9', 'fashion'];
      expect(r.config.ood_sets).toEqual(sets);
      expect(Object.keys(r.runs.baseline.layers)).toEqual(['enc1', 'encoder']);
      expect(Object.keys(r.runs.nc_control.layers)).toEqual(['enc1', 'encoder', 'proj1', 'projector']);
      for (const run of [r.runs.baseline, r.runs.nc_control]) {
        expect(run.id_test_acc).toBeGreaterThan(0);
        expect(run.id_test_acc).toBeLessThanOrEqual(1);
        for (const layer of Object.values(run.layers)) {
          expect(layer.nc1).toBeGreaterThan(0);
          for (const key of ['fpr95', 'auroc', 'transfer_acc'] as const) {
            expect(Object.keys(layer[key])).toEqual(sets);
            for (const v of Object.values(layer[key])) expect(v >= 0 && v <= 1).toBe(true);
          }
        }
      }
      // The correlation is the Pearson r over every layer of both runs.
      const layers = [...Object.values(r.runs.baseline.layers), ...Object.values(r.runs.nc_control.layers)];
      const avg = (o: Record<string, number>) => Object.values(o).reduce((s, v) => s + v, 0) / Object.values(o).length;
      expect(r.correlation.nc1_vs_fpr95).toBeCloseTo(pearson(layers.map((l) => l.nc1), layers.map((l) => avg(l.fpr95))), 12);
      expect(Object.keys(r.claims).sort()).toEqual([
        'encoder_transfers_better', 'nc1_anticorrelates_with_transfer_error', 'nc1_correlates_with_fpr95', 'nc1_correlations_as_paper',
        'projector_detects_better', 'projector_more_collapsed',
      ]);
      // Claim (4) is the conjunction of its two parts, each measured on its own.
      expect(r.claims.nc1_correlates_with_fpr95).toBe(r.correlation.nc1_vs_fpr95 > 0);
      expect(r.claims.nc1_anticorrelates_with_transfer_error).toBe(r.correlation.nc1_vs_transfer_error < 0);
      expect(r.claims.nc1_correlations_as_paper).toBe(r.claims.nc1_correlates_with_fpr95 && r.claims.nc1_anticorrelates_with_transfer_error);
      expect(r.transfer_budget).toBeUndefined(); // no sweep unless asked for
      expect(r.runs.nc_control.layers.projector.score_histogram?.ood[sets[0]].length).toBe(40);
      expect(JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')).claims).toEqual(r.claims);
      expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
    }, 120_000);
  }

  it('rejects a bad seed list, bad transfer rows and zero probe epochs', () => {
    expectCliError(['bench', 'paper', '--quick', '--seeds', '0,x'], 'ERR_INVALID_ARGUMENT');
    expect(expectCliError(['bench', 'paper', '--quick', '--transfer-rows', '2000,0'], 'ERR_INVALID_ARGUMENT')).toContain('--transfer-rows');
    expect(expectCliError(['bench', 'paper', '--quick', '--probe-epochs', '10,0'], 'ERR_INVALID_ARGUMENT')).toContain('--probe-epochs');
  });
});

/** Toy ID and OOD sets as .npy files in a fresh folder, and a writer of `--data` specs there. */
async function toySets() {
  const { writeNpy } = await import('../../lib/data/index.js');
  const { clusters } = await import('../helpers/random.js');
  const dir = tempDir('ncod-paper-data-');
  const save = async (name: string, n: number, dim: number, C: number, seed: number) => {
    const d = clusters(n, dim, C, seed);
    await writeNpy(path.join(dir, `${name}_x.npy`), { dtype: 'float32', shape: [n, dim], data: d.features });
    await writeNpy(path.join(dir, `${name}_y.npy`), { dtype: 'int32', shape: [n], data: d.labels });
    return { features: `${name}_x.npy`, labels: `${name}_y.npy` };
  };
  const spec = {
    id: { name: 'toy_id', train: await save('id_train', 600, 20, 3, 1), test: await save('id_test', 200, 20, 3, 2) },
    ood: [{ name: 'toy_ood', train: await save('ood_train', 400, 20, 4, 3), test: await save('ood_test', 150, 20, 4, 4) }],
  };
  writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  return { dir, save, spec, specPath: path.join(dir, 'spec.json') };
}

describe('ncod bench paper --data (your own .npy sets)', () => {
  it('runs the protocol on sets listed in a JSON file, and rejects a bad spec', async () => {
    const { dir, save, spec } = await toySets();
    const r = cliJson(['bench', 'paper', '--quick', '--data', path.join(dir, 'spec.json'), '--out', dir]) as PaperResult;
    expect(r.config.protocol).toBe('custom');
    expect([r.config.id, r.config.ood_sets]).toEqual(['toy_id', ['toy_ood']]);
    expect(Object.keys(r.runs.nc_control.layers.projector.transfer_acc)).toEqual(['toy_ood']);

    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ ...spec, ood: [] }));
    expectCliError(['bench', 'paper', '--quick', '--data', path.join(dir, 'bad.json'), '--out', dir], 'ERR_INVALID_ARGUMENT');
    const wide = { ...spec, ood: [{ name: 'wide', train: await save('wide_train', 100, 21, 2, 5), test: await save('wide_test', 50, 21, 2, 6) }] };
    writeFileSync(path.join(dir, 'wide.json'), JSON.stringify(wide));
    expectCliError(['bench', 'paper', '--quick', '--data', path.join(dir, 'wide.json'), '--out', dir], 'ERR_SHAPE');
  }, 120_000);
});

describe('ncod bench paper --transfer-rows --probe-epochs (the transfer budget sweep)', () => {
  it('re-fits the encoders\' transfer probes per budget on balanced subsets; the terminal shows the table and each claim as measured', async () => {
    const { dir, specPath } = await toySets();
    const args = ['bench', 'paper', '--quick', '--data', specPath, '--out', dir, '--seeds', '0,1', '--transfer-rows', '40,1000,all', '--probe-epochs', '2,4'];
    const r = cliJson(args) as PaperResult;
    const t = r.transfer_budget!;
    expect(r.config.probe_epochs).toBe(2); // the first value is the main tables' setting
    expect([r.config.transfer_rows, r.config.probe_epochs_sweep]).toEqual([[40, 1000, 'all'], [2, 4]]);
    expect([t.layer, t.rows, t.probe_epochs]).toEqual(['encoder', [40, 1000, 'all'], [2, 4]]);
    expect(t.cells).toHaveLength(3 * 2 * 2 * 2); // rows × epochs × runs × seeds
    // 40 rows: 10 of each of the 4 classes; 1000 rows: more than the 400 the split has, so all of them.
    expect(t.cells.filter((c) => c.rows === 40).every((c) => c.rows_used.toy_ood === 40)).toBe(true);
    expect(t.cells.filter((c) => c.rows !== 40).every((c) => c.rows_used.toy_ood === 400)).toBe(true);
    for (const c of t.cells) expect(c.mean_transfer_acc >= 0 && c.mean_transfer_acc <= 1).toBe(true);
    // (all rows, first epochs) is the main table's transfer accuracy, not a second fit.
    for (const s of r.seeds) {
      for (const run of ['baseline', 'nc_control'] as const) {
        const cell = t.cells.find((c) => c.seed === s.seed && c.run === run && c.rows === 'all' && c.probe_epochs === 2)!;
        expect(cell.transfer_acc).toEqual(s.runs[run].layers.encoder.transfer_acc);
        // 1000 rows ≥ the split: the same probe as all rows.
        const capped = t.cells.find((c) => c.seed === s.seed && c.run === run && c.rows === 1000 && c.probe_epochs === 4)!;
        expect(capped.transfer_acc).toEqual(t.cells.find((c) => c.seed === s.seed && c.run === run && c.rows === 'all' && c.probe_epochs === 4)!.transfer_acc);
      }
    }
    expect(t.claims).toHaveLength(6);
    for (const c of t.claims) expect(c.encoder_transfers_better).toBe(c.nc_control.mean > c.baseline.mean);

    const text = runCli(args.filter((a) => a !== '--json'));
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("Transfer accuracy of the encoders by the transfer probe's budget");
    expect(text.stdout).toMatch(/^40 +40 +2 /m);
    const claims = text.stdout.split('\n').filter((l) => /^[✓✗] \(/.test(l));
    expect(claims.map((l) => l.match(/^[✓✗] \((\w+)\)/)![1])).toEqual(['1', '2', '3', '4a', '4b']);
    for (const line of claims) expect(line).toMatch(/expected .*\(holds in [0-2] of 2 seeds\)$/);
    expect(claims[3]).toContain(`r(NC1, FPR95) = ${r.correlation.nc1_vs_fpr95.toFixed(2)}, expected > 0`);
    expect(claims[3].startsWith(r.claims.nc1_correlates_with_fpr95 ? '✓' : '✗')).toBe(true);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('id="transfer-budget"');
  }, 120_000);
});
