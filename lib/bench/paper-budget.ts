// The transfer probe's data budget (issue 13 item 6): the paper's transfer claim (2) depends on how many rows of
// each OOD set's train split, and how many epochs, the transfer probe gets. `bench paper --transfer-rows
// 2000,20000,all --probe-epochs 10,30` trains the two models once per seed and re-fits only the encoder's transfer
// probes on per-class balanced subsets; this file holds the subsets, the option checks and the result table.
import { fail, describe } from '../errors.js';
import { mulberry32 } from '../random.js';
import { meanOf, meanStd } from './paper-stats.js';
import type { TransferBudgetPoint, TransferBudgetTable, TransferRows } from './paper-types.js';

export interface TransferBudget {
  /** Rows of each OOD set's train split (per-class balanced), or 'all'. */
  rows: TransferRows[];
  /** Transfer-probe epochs. */
  probeEpochs: number[];
}

/** Checks a budget given through the API or the CLI: positive integer rows or 'all', positive integer epochs. */
export function checkTransferBudget(b: TransferBudget, what = 'transferBudget'): TransferBudget {
  if (!Array.isArray(b?.rows) || b.rows.length === 0 || b.rows.some((r) => r !== 'all' && !(Number.isSafeInteger(r) && r > 0))) {
    fail('ERR_INVALID_ARGUMENT', `${what}.rows`, "a non-empty list of positive integers or 'all'", describe(b?.rows));
  }
  if (!Array.isArray(b.probeEpochs) || b.probeEpochs.length === 0 || b.probeEpochs.some((e) => !(Number.isSafeInteger(e) && e > 0))) {
    fail('ERR_INVALID_ARGUMENT', `${what}.probeEpochs`, 'a non-empty list of positive integers', describe(b.probeEpochs));
  }
  return { rows: [...new Set(b.rows)], probeEpochs: [...new Set(b.probeEpochs)] };
}

/** Copies the rows `keep` (ascending) of a row-major matrix with `width` columns. */
export function gatherRows(features: Float32Array, width: number, keep: ArrayLike<number>): Float32Array {
  const out = new Float32Array(keep.length * width);
  for (let r = 0; r < keep.length; r++) out.set(features.subarray(keep[r] * width, (keep[r] + 1) * width), r * width);
  return out;
}

/**
 * Indices (ascending) of a per-class balanced subset of `rows` rows: classes take turns, each drawing from its own
 * seeded shuffle, so every class gets ⌊rows / C⌋ or one more, and a class with too few rows leaves its share to the
 * others. `rows` ≥ the number of labels keeps every row.
 */
export function balancedSubset(labels: Int32Array, classes: number, rows: number, seed: number): Int32Array {
  if (rows >= labels.length) return Int32Array.from(labels.keys());
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => byClass[y].push(i));
  const random = mulberry32(seed);
  for (const list of byClass) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
  }
  const picked: number[] = [];
  for (let turn = 0; picked.length < rows; turn++) {
    for (const list of byClass) if (turn < list.length && picked.length < rows) picked.push(list[turn]);
  }
  return Int32Array.from(picked).sort();
}


type BudgetRuns = Record<'baseline' | 'nc_control', { transfer_budget?: TransferBudgetPoint[] }>;

/** The `transfer_budget` table of a result: every (rows, epochs, run, seed) cell and claim (2) per budget. */
export function transferBudgetTable(seedRuns: { seed: number; runs: BudgetRuns }[]): TransferBudgetTable | undefined {
  const first = seedRuns[0]?.runs.baseline.transfer_budget;
  if (!first) return undefined;
  const budgets = first.map((p) => ({ rows: p.rows, probe_epochs: p.probe_epochs }));
  const cells: TransferBudgetTable['cells'] = [];
  for (const { seed, runs } of seedRuns) {
    for (const run of ['baseline', 'nc_control'] as const) {
      for (const p of runs[run].transfer_budget ?? []) cells.push({ ...p, run, seed, mean_transfer_acc: meanOf(p.transfer_acc) });
    }
  }
  const claims = budgets.map(({ rows, probe_epochs }) => {
    const at = (run: string) => cells.filter((c) => c.run === run && c.rows === rows && c.probe_epochs === probe_epochs);
    const [base, nc] = [at('baseline'), at('nc_control')];
    const stat = (cs: typeof cells) => meanStd(cs.map((c) => c.mean_transfer_acc));
    const seedsHolding = nc.filter((c) => c.mean_transfer_acc > (base.find((b) => b.seed === c.seed)?.mean_transfer_acc ?? Infinity)).length;
    return {
      rows, probe_epochs,
      baseline: stat(base), nc_control: stat(nc),
      encoder_transfers_better: stat(nc).mean > stat(base).mean,
      seeds_holding: seedsHolding,
      seeds: nc.length,
    };
  });
  return {
    layer: 'encoder',
    rows: [...new Set(budgets.map((b) => b.rows))],
    probe_epochs: [...new Set(budgets.map((b) => b.probe_epochs))],
    cells,
    claims,
  };
}
