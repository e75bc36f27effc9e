/**
 * `ncod bench ood --sweep`: the detectors' hyperparameters chosen per layer by a small grid on validation data
 * that no test OOD set enters.
 *
 * Protocol (fixed, so a run is reproducible from its seed):
 * - ID validation: a seeded 10 % of the layer's ID *train* rows (at least 1 row per class stays in the fit part;
 *   the same rows for every layer). Each grid point is fitted on the other 90 % and scores the held-out rows.
 * - OOD validation: the spec's "validation": {"layers": {...}} features when given; otherwise a synthetic source,
 *   the held-out ID rows with every feature column permuted independently (seeded): each feature keeps its ID
 *   marginal while the joint structure (class clusters, correlations) is destroyed, like OpenOOD v1.5's use of a
 *   held-out source disjoint from every test OOD set. Never a test OOD set.
 * - Criterion: the AUROC of held-out ID vs validation OOD; ties keep the earlier grid point, and the grid lists the
 *   default first, so a flat criterion keeps the default.
 * - The table then refits every swept detector on all train rows with the chosen values; the defaults' cells are
 *   reported too (OodTableResult.sweep.defaultCells).
 */
import type { BackendName } from '../backend.js';
import { evaluateOOD } from '../ood/evaluate.js';
import { METHOD_SPECS } from '../ood/detectors.js';
import { fitMethod } from '../ood/fit-method.js';
import type { Hyperparameters } from '../ood/method-spec.js';
import { mulberry32 } from '../random.js';
import { METHODS, type Method } from '../ood/method-names.js';
import { gatherRows, memoryRows, scoreRows, selectedRows, withLabels, type RowSource } from './ood-rows.js';
import type { OodBenchData, OodLayer } from './ood-spec.js';
import { defaultHyperparameters } from './ood-table.js';

export const HELD_OUT_FRACTION = 0.1;

export type ValidationSource = 'spec' | 'permuted-columns';

export interface SweepChoice {
  chosen: Hyperparameters;
  default: Hyperparameters;
  /** Validation AUROC of every grid point, in grid order. */
  grid: { hyperparameters: Hyperparameters; auroc: number }[];
}

export interface SweepResult {
  validation: ValidationSource;
  heldOutFraction: number;
  seed: number;
  criterion: 'auroc';
  /** Keyed `${layer}/${detector}`, like OodTableResult.hyperparameters. */
  choices: Record<string, SweepChoice>;
}

/** The detectors with a swept hyperparameter (a sweepGrid in their spec). */
export const SWEPT: readonly Method[] = METHODS.filter((m) => METHOD_SPECS[m].sweepGrid !== undefined);

/** The grid for one detector on one layer (the default first); [] for detectors without one. */
export function sweepGrid(method: Method, layer: OodLayer, fitRows: number, numClasses: number): Hyperparameters[] {
  const base = defaultHyperparameters(method, layer, fitRows);
  return METHOD_SPECS[method].sweepGrid?.({ dim: layer.dim, rows: fitRows, numClasses }, base) ?? [];
}

function shuffle(n: number, next: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Held-out row indices: ⌈fraction·N⌉ rows at random, except that every class keeps at least one fit row. */
export function heldOutRows(labels: Int32Array, numClasses: number, seed: number, fraction = HELD_OUT_FRACTION): { fit: Int32Array; held: Int32Array } {
  const order = shuffle(labels.length, mulberry32(seed));
  const want = Math.max(1, Math.ceil(fraction * labels.length));
  const left = new Float64Array(numClasses);
  for (const c of labels) left[c]++;
  const held: number[] = [];
  const fit: number[] = [];
  for (const i of order) {
    if (held.length < want && left[labels[i]] > 1) {
      held.push(i);
      left[labels[i]]--;
    } else fit.push(i);
  }
  return { fit: Int32Array.from(fit.sort((a, b) => a - b)), held: Int32Array.from(held.sort((a, b) => a - b)) };
}

/** A one-byte-per-row mask of the given row indices. */
function maskOf(rows: Int32Array, total: number): Uint8Array {
  const mask = new Uint8Array(total);
  for (const r of rows) mask[r] = 1;
  return mask;
}

/** Every column of the rows×dim matrix permuted on its own (seeded): ID marginals, no joint structure. */
export function permuteColumns(features: Float32Array, dim: number, seed: number): Float32Array {
  const rows = features.length / dim;
  const next = mulberry32(seed ^ 0x9e3779b9);
  const out = new Float32Array(features.length);
  for (let j = 0; j < dim; j++) {
    const order = shuffle(rows, next);
    for (let i = 0; i < rows; i++) out[i * dim + j] = features[order[i] * dim + j];
  }
  return out;
}

export interface SweepOptions {
  backend?: BackendName;
  seed?: number;
  /** The methods each layer runs (the table's plan). */
  plan: { layer: OodLayer; methods: Method[] }[];
  /** Grid points fitted so far, of all of them, and the one starting. */
  onProgress?: (done: number, total: number, what: string) => void;
}

/** The chosen hyperparameters per layer × swept detector (see the protocol above). */
export async function sweepHyperparameters(data: OodBenchData, options: SweepOptions): Promise<SweepResult> {
  const seed = options.seed ?? 0;
  const backend = options.backend ?? 'cpu';
  const { fit, held } = heldOutRows(data.trainLabels, data.numClasses, seed);
  const fitLabels = Int32Array.from(fit, (i) => data.trainLabels[i]);
  const validation: ValidationSource = data.validation ? 'spec' : 'permuted-columns';
  const choices: Record<string, SweepChoice> = {};
  const points = options.plan.reduce((n, { layer, methods }) => n + methods.reduce((k, m) => k + sweepGrid(m, layer, fit.length, data.numClasses).length, 0), 0);
  let done = 0;
  const heldMask = maskOf(held, data.trainLabels.length);
  const fitMask = heldMask.map((h) => 1 - h);
  for (const { layer, methods } of options.plan) {
    const swept = methods.filter((m) => SWEPT.includes(m));
    if (swept.length === 0) continue;
    // The fit rows stream from the layer's train source; the held-out rows (10 %) are gathered once, in memory, so
    // that their columns can be permuted into the synthetic OOD source.
    const fitRows = withLabels(selectedRows(layer.train, fitMask), fitLabels);
    const idValidation = await gatherRows(layer.train, heldMask);
    const oodValidation = data.validation?.get(layer.name) ?? memoryRows(permuteColumns(idValidation, layer.dim, seed), layer.dim);
    const idSource = memoryRows(idValidation, layer.dim);
    for (const method of swept) {
      const grid = sweepGrid(method, layer, fit.length, data.numClasses);
      const scored: SweepChoice['grid'] = [];
      for (const hyper of grid) {
        options.onProgress?.(done++, points, `sweep ${layer.name} ${method} ${JSON.stringify(hyper)}`);
        const fitData = { batches: fitRows, dim: layer.dim, numClasses: data.numClasses, head: layer.head };
        const names = { features: `layers.${layer.name}.train`, labels: 'labels.train', head: `layers.${layer.name}.weights`, principalDim: 'principalDim', logitWidth: 'weights' };
        const detector = await fitMethod(method, fitData, { ...hyper, backend }, names);
        try {
          const scores = async (source: RowSource) => (await scoreRows(source, [detector], (work) => work()))[0];
          const report = await evaluateOOD(await scores(idSource), await scores(oodValidation));
          scored.push({ hyperparameters: hyper, auroc: report.auroc });
        } finally {
          detector.dispose();
        }
      }
      const best = scored.reduce((a, b) => (b.auroc > a.auroc ? b : a));
      choices[`${layer.name}/${method}`] = { chosen: best.hyperparameters, default: grid[0], grid: scored };
    }
  }
  return { validation, heldOutFraction: HELD_OUT_FRACTION, seed, criterion: 'auroc', choices };
}
