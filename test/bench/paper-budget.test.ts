// The transfer-budget sweep's pieces: per-class balanced subsets, the option checks, and claim (2) per budget.
import { describe, expect, it } from 'vitest';

import { balancedSubset, checkTransferBudget, transferBudgetTable } from '../../lib/bench/paper-budget.js';
import { parseTransferRows } from '../../lib/cli/commands/bench-paper.js';
import type { TransferBudgetPoint } from '../../lib/bench/paper-types.js';

/** Labels sorted by class, `counts[c]` of class c: a prefix of them would not be balanced. */
const labels = (counts: number[]) => Int32Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));

const perClass = (y: Int32Array, keep: Int32Array, classes: number) => {
  const counts = new Array<number>(classes).fill(0);
  for (const i of keep) counts[y[i]]++;
  return counts;
};

describe('balancedSubset', () => {
  it('takes ⌊N/C⌋ or one more of every class, ascending, distinct, the same for the same seed', () => {
    const y = labels([400, 300, 500, 350, 450]);
    const keep = balancedSubset(y, 5, 1003, 7);
    expect(keep.length).toBe(1003);
    expect(perClass(y, keep, 5)).toEqual([201, 201, 201, 200, 200]);
    expect(new Set(keep).size).toBe(1003);
    expect([...keep].every((v, i) => i === 0 || v > keep[i - 1])).toBe(true);
    expect(balancedSubset(y, 5, 1003, 7)).toEqual(keep);
    expect(balancedSubset(y, 5, 1003, 8)).not.toEqual(keep);
  });

  it('a class with too few rows gives all it has and leaves its share to the others', () => {
    const y = labels([10, 1000, 1000]);
    const keep = balancedSubset(y, 3, 600, 1);
    expect(perClass(y, keep, 3)).toEqual([10, 295, 295]);
  });

  it('N ≥ the rows keeps every row', () => {
    const y = labels([3, 4]);
    expect([...balancedSubset(y, 2, 7, 0)]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(balancedSubset(y, 2, 100, 0).length).toBe(7);
  });
});

describe('budget options', () => {
  it('parses rows lists with all, and refuses zero, negatives, fractions and words', () => {
    expect(parseTransferRows('2000, 20000,all')).toEqual([2000, 20000, 'all']);
    for (const bad of ['0', '-5', '2.5', 'many', '2000,,all']) {
      expect(() => parseTransferRows(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });

  it('checks the API form too, and drops repeated values', () => {
    expect(checkTransferBudget({ rows: [100, 100, 'all'], probeEpochs: [10, 10] })).toEqual({ rows: [100, 'all'], probeEpochs: [10] });
    expect(() => checkTransferBudget({ rows: [], probeEpochs: [10] })).toThrow(/rows: expected a non-empty list/);
    expect(() => checkTransferBudget({ rows: ['all'], probeEpochs: [0] })).toThrow(/probeEpochs: expected a non-empty list of positive integers/);
  });
});

describe('transferBudgetTable', () => {
  const point = (rows: number | 'all', acc: [number, number]): TransferBudgetPoint => ({
    rows, probe_epochs: 10, rows_used: { a: 1, b: 1 }, transfer_acc: { a: acc[0], b: acc[1] },
  });
  it('every (rows, epochs, run, seed) cell, and claim (2) on the seed means with the seeds where it holds', () => {
    const seeds = [
      { seed: 0, runs: { baseline: { transfer_budget: [point(50, [0.5, 0.7]), point('all', [0.9, 0.9])] }, nc_control: { transfer_budget: [point(50, [0.7, 0.7]), point('all', [0.95, 0.85])] } } },
      { seed: 1, runs: { baseline: { transfer_budget: [point(50, [0.6, 0.6]), point('all', [0.8, 0.9])] }, nc_control: { transfer_budget: [point(50, [0.55, 0.6]), point('all', [0.8, 0.8])] } } },
    ];
    const t = transferBudgetTable(seeds)!;
    expect(t.rows).toEqual([50, 'all']);
    expect(t.cells).toHaveLength(8);
    expect(t.cells.find((c) => c.seed === 1 && c.run === 'nc_control' && c.rows === 50)!.mean_transfer_acc).toBeCloseTo(0.575, 15);
    const [small, all] = t.claims;
    // rows 50: baseline 0.6, 0.6 → 0.6 ± 0; NC 0.7, 0.575 → 0.6375: holds on the means, in seed 0 only.
    expect(small.baseline).toEqual({ mean: 0.6, std: 0 });
    expect(small.nc_control.mean).toBeCloseTo(0.6375, 15);
    expect(small.nc_control.std).toBeCloseTo(Math.SQRT1_2 * 0.125, 15);
    expect([small.encoder_transfers_better, small.seeds_holding, small.seeds]).toEqual([true, 1, 2]);
    // all: baseline 0.9, 0.85; NC 0.9, 0.8: fails, in no seed (0.9 is not > 0.9).
    expect([all.encoder_transfers_better, all.seeds_holding]).toEqual([false, 0]);
  });

  it('is absent without a sweep', () => {
    expect(transferBudgetTable([{ seed: 0, runs: { baseline: {}, nc_control: {} } }])).toBeUndefined();
  });
});
