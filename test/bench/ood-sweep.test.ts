// bench ood --sweep (lib/bench/ood-sweep.ts): the seeded split, the synthetic validation source, the grids, and a
// sweep whose choice is the grid's best validation AUROC and whose refit on all rows gives the table's cells.
import { describe, expect, it } from 'vitest';

import { heldOutRows, permuteColumns, sweepGrid, sweepHyperparameters } from '../../lib/bench/ood-sweep.js';
import { memoryRows } from '../../lib/bench/ood-rows.js';
import { runOodTable } from '../../lib/bench/ood-table.js';
import type { OodBenchData } from '../../lib/bench/ood-spec.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

describe('the validation split', () => {
  it('holds out ⌈10 %⌉ of the rows, seeded, disjoint from the fit rows, every class keeping a fit row', () => {
    const labels = Int32Array.from({ length: 203 }, (_, i) => (i < 2 ? 2 : i % 2)); // class 2 has only 2 rows
    const a = heldOutRows(labels, 3, 7);
    expect(a.held.length).toBe(21);
    expect(a.fit.length + a.held.length).toBe(203);
    expect(new Set([...a.fit, ...a.held]).size).toBe(203);
    for (let c = 0; c < 3; c++) expect(Array.from(a.fit).some((i) => labels[i] === c), `class ${c}`).toBe(true);
    expect(heldOutRows(labels, 3, 7)).toEqual(a);
    expect(heldOutRows(labels, 3, 8).held).not.toEqual(a.held);
    // One row per class: nothing can be held out of it.
    const single = heldOutRows(Int32Array.from([0, 1, 1, 1]), 2, 0);
    expect(Array.from(single.fit)).toContain(0);
  });

  it('permuting the columns keeps every column’s values and breaks the rows apart', () => {
    const dim = 5;
    const x = Float32Array.from({ length: 50 * dim }, (_, i) => i);
    const p = permuteColumns(x, dim, 3);
    for (let j = 0; j < dim; j++) {
      const column = (m: Float32Array) => Array.from({ length: 50 }, (_, i) => m[i * dim + j]).sort((a, b) => a - b);
      expect(column(p)).toEqual(column(x));
    }
    const intact = Array.from({ length: 50 }, (_, i) => i).filter((i) => p.subarray(i * dim, (i + 1) * dim).every((v, j) => v === x[i * dim + j]));
    expect(intact.length).toBeLessThan(3);
  });
});

describe('the grids', () => {
  const layer = { name: 'l', dim: 16, train: memoryRows(new Float32Array(0), 16), test: memoryRows(new Float32Array(0), 16), head: undefined };
  it('list the default first and stay inside each detector’s valid range', () => {
    expect(sweepGrid('knn', layer, 30, 3).map((h) => h.k)).toEqual([30, 1, 5, 10, 20]);
    expect(sweepGrid('react', layer, 30, 3)[0]).toEqual({ percentile: 90 });
    expect(sweepGrid('vim', layer, 30, 3).map((h) => h.principalDim)).toEqual([8, 2, 4, 12, 14]);
    expect(Math.max(...sweepGrid('residual', { ...layer, dim: 2 }, 30, 3).map((h) => h.principalDim!))).toBe(1);
    expect(sweepGrid('gen', layer, 30, 3)).toContainEqual({ gamma: 0.1, topM: 0 });
    expect(sweepGrid('gen', layer, 30, 3).every((h) => h.topM! < 3)).toBe(true);
    expect(sweepGrid('gen', layer, 30, 20)).toHaveLength(12);
    expect(sweepGrid('nci', layer, 30, 3)[0]).toEqual({ alpha: 0 });
    expect(sweepGrid('energy', layer, 30, 3)).toEqual([]);
  });
});

describe('sweepHyperparameters and the table', () => {
  const C = 3;
  const dim = 12;
  const normal = gaussian(rng(4));
  const train = clusters(400, dim, C, 1);
  const test = clusters(200, dim, C, 2);
  const head = { weights: Float32Array.from({ length: C * dim }, () => normal()), bias: new Float32Array(C), numClasses: C };
  const data: OodBenchData = {
    trainLabels: train.labels,
    testLabels: test.labels,
    numClasses: C,
    layers: [{ name: 'enc', dim, train: memoryRows(train.features, dim), test: memoryRows(test.features, dim), head }],
    ood: [{ name: 'far', group: 'far', layers: new Map([['enc', memoryRows(Float32Array.from({ length: 150 * dim }, () => 3 * normal()), dim)]]) }],
  };

  it('chooses the best validation AUROC of the grid, refits on all rows, and reports the defaults’ cells', async () => {
    const detectors = ['knn', 'vim', 'energy'] as const;
    const result = await runOodTable(data, { sweep: true, detectors: [...detectors] });
    const sweep = result.sweep!;
    expect(sweep).toMatchObject({ validation: 'permuted-columns', heldOutFraction: 0.1, seed: 0, criterion: 'auroc' });
    expect(Object.keys(sweep.choices).sort()).toEqual(['enc/knn', 'enc/vim']);
    for (const [key, choice] of Object.entries(sweep.choices)) {
      const best = Math.max(...choice.grid.map((g) => g.auroc));
      expect(choice.grid.find((g) => g.hyperparameters === choice.chosen)!.auroc, key).toBe(best);
      expect(result.hyperparameters[key]).toEqual(choice.chosen);
    }
    expect(sweep.choices['enc/knn'].default).toEqual({ k: 50 });
    expect(sweep.defaultCells.map((c) => c.detector).sort()).toEqual(['knn', 'vim']);
    // The chosen cells are what a table with those values fixed gives; energy has nothing to sweep.
    const plain = await runOodTable(data, { detectors: ['energy'] });
    expect(result.cells.find((c) => c.detector === 'energy')!.auroc).toBe(plain.cells[0].auroc);
    expect(result.seconds.sweep).toBeGreaterThan(0);
  });

  it("uses the spec's validation features when given, and they change the validation AUROCs", async () => {
    const validation = new Map([['enc', memoryRows(clusters(60, dim, C, 9, { shift: 0.5 }).features, dim)]]);
    const plan = [{ layer: data.layers[0], methods: ['knn' as const] }];
    const own = await sweepHyperparameters({ ...data, validation }, { plan });
    const synthetic = await sweepHyperparameters(data, { plan });
    expect(own.validation).toBe('spec');
    expect(own.choices['enc/knn'].grid.map((g) => g.auroc)).not.toEqual(synthetic.choices['enc/knn'].grid.map((g) => g.auroc));
  });
});
