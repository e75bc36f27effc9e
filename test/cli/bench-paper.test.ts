// Smoke test of `ncod bench paper --quick`: the JSON the issue specifies, on real MNIST / Fashion-MNIST.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import type { PaperResult } from '../../lib/bench/paper-types.js';
import { pearson } from '../../lib/bench/paper.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cliJson, expectCliError } from './helpers.js';

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
      expect(Object.keys(r.claims).sort()).toEqual(['encoder_transfers_better', 'nc1_correlations_as_paper', 'projector_detects_better', 'projector_more_collapsed']);
      expect(r.runs.nc_control.layers.projector.score_histogram?.ood[sets[0]].length).toBe(40);
      expect(JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')).claims).toEqual(r.claims);
      expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
    }, 120_000);
  }

  it('rejects a bad seed list', () => {
    expectCliError(['bench', 'paper', '--quick', '--seeds', '0,x'], 'ERR_INVALID_ARGUMENT');
  });
});

describe('ncod bench paper --data (your own .npy sets)', () => {
  it('runs the protocol on sets listed in a JSON file, and rejects a bad spec', async () => {
    const { writeFileSync } = await import('node:fs');
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
