// `ncod bench ood`: every applicable detector × every layer × every OOD set, each cell the OOD metrics of the
// detector fitted on the layer's ID train features and scored on its ID test and OOD features; per layer NC1; the
// Friedman ranking of the detectors by AUROC over OOD sets (per layer, and over all layer × OOD blocks); and across
// layers the correlation of NC1 with each detector's FPR95. Each detector is fitted once per layer from the
// streamed train rows (ood-rows.ts), the states several detectors read computed once (ood-fits.ts), and each query
// set is read once and scored by every detector. Hyperparameters are the documented defaults (reported in the
// output), or with `sweep` chosen on validation data (ood-sweep.ts), the defaults' cells then reported beside.
import type { BackendName } from '../backend.js';
import { ncMetrics } from '../metrics/nc.js';
import { evaluateOOD, type OODReport } from '../ood/evaluate.js';
import { METHOD_SPECS } from '../ood/detectors.js';
import { METHODS, type Method } from '../ood/method-names.js';
import type { Hyperparameters } from '../ood/method-spec.js';
import { friedman, ranksOf, type FriedmanResult } from '../stats/friedman.js';
import { fitLayerDetectors } from './ood-fits.js';
import { scoreRows, withLabels, type RowSource } from './ood-rows.js';
import type { OodBenchData, OodLayer } from './ood-spec.js';
import { sweepHyperparameters, type SweepResult } from './ood-sweep.js';

export const CELL_METRICS = ['auroc', 'fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out'] as const;
type CellMetric = (typeof CELL_METRICS)[number];

export interface OodCell extends Record<CellMetric, number> {
  detector: Method;
  layer: string;
  ood: string;
  group: 'near' | 'far';
  /** Percentile-bootstrap intervals, when requested. */
  ci?: Record<CellMetric, [number, number]>;
}

export interface OodTableOptions {
  backend?: BackendName;
  /** Bootstrap replicates per cell (0: none). */
  bootstrap?: number;
  seed?: number;
  /** Restrict to these detectors (default: every one the layer's inputs allow). */
  detectors?: Method[];
  onProgress?: (done: number, total: number, what: string) => void;
  /** Rows done of the query set being scored (for a row-level progress bar). */
  onRows?: (done: number, total: number, what: string) => void;
  /** Choose the swept detectors' hyperparameters on validation data first (ood-sweep.ts); defaults otherwise. */
  sweep?: boolean;
}

export interface OodTableResult {
  /** Per layer, beside NC1 (of the train features): GNC2, and UNC3 when the layer has a C-row classifier. */
  layers: { name: string; dim: number; nc1: number | null; gnc2: number | null; unc3: number | null; head: boolean; detectors: Method[] }[];
  hyperparameters: Record<string, Hyperparameters>;
  cells: OodCell[];
  /** Mean AUROC and FPR95 over the OOD sets of each group, per detector and layer. */
  averages: { detector: Method; layer: string; group: 'near' | 'far' | 'all'; auroc: number; fpr95: number; sets: number }[];
  ranking: { perLayer: Record<string, FriedmanResult>; overall: FriedmanResult | null };
  /** Across layers: NC1 against the detector's mean FPR95 (null below 3 layers). */
  nc1Correlation: { detector: Method; layers: number; pearson: number | null; spearman: number | null }[];
  seconds: { fit: number; score: number; evaluate: number; nc1: number; sweep: number; total: number };
  /** With options.sweep: the protocol, the grid's validation AUROCs and the choices, and the defaults' own cells. */
  sweep?: SweepResult & { defaultCells: OodCell[] };
}

/** The defaults the table uses (each method's spec, METHOD_SPECS: benchDefaults). */
export function defaultHyperparameters(method: Method, layer: OodLayer, trainRows: number): Hyperparameters {
  return METHOD_SPECS[method].benchDefaults?.({ dim: layer.dim, rows: trainRows }) ?? {};
}

/** The detectors a layer's inputs allow: logit ones and the head-based ones need the head; some a minimum dimension. */
export function applicable(layer: OodLayer): Method[] {
  return METHODS.filter((m) => {
    const { needs, minDim = 1 } = METHOD_SPECS[m];
    if ((needs.head || !needs.features) && !layer.head) return false;
    return layer.dim >= minDim;
  });
}

function pearson(x: number[], y: number[]): number | null {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let [sxy, sxx, syy] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export async function runOodTable(data: OodBenchData, options: OodTableOptions = {}): Promise<OodTableResult> {
  const start = performance.now();
  const seconds = { fit: 0, score: 0, evaluate: 0, nc1: 0, sweep: 0, total: 0 };
  const timed = async <T>(key: keyof typeof seconds, work: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const value = await work();
    seconds[key] += (performance.now() - t0) / 1000;
    return value;
  };
  const backend = options.backend ?? 'cpu';
  const bootstrap = options.bootstrap ? { samples: options.bootstrap, seed: options.seed ?? 0 } : undefined;
  const plan = data.layers.map((layer) => ({ layer, methods: applicable(layer).filter((m) => !options.detectors || options.detectors.includes(m)) }));
  const sweep = options.sweep
    ? await timed('sweep', () => sweepHyperparameters(data, { plan, backend, seed: options.seed, onProgress: options.onProgress }))
    : undefined;
  const total = plan.reduce((n, p) => n + p.methods.length, 0) + (sweep ? Object.keys(sweep.choices).length : 0);
  let done = 0;
  const defaultCells: OodCell[] = [];

  const cells: OodCell[] = [];
  const layers: OodTableResult['layers'] = [];
  const hyperparameters: Record<string, Hyperparameters> = {};
  for (const { layer, methods } of plan) {
    const train = withLabels(layer.train, data.trainLabels);
    // UNC3 pairs class c's mean with weight row c, so only a head with one row per class qualifies.
    const weights = layer.head?.numClasses === data.numClasses ? layer.head.weights : undefined;
    options.onProgress?.(done, total, `NC1 ${layer.name}`);
    const nc = await timed('nc1', () => ncMetrics({ batches: train, numClasses: data.numClasses, dim: layer.dim, weights, backend }));
    const collapse = { nc1: nc.nc1, gnc2: nc.gnc2_hyperspherical_uniformity, unc3: nc.unc3_uniform_duality };
    layers.push({ name: layer.name, dim: layer.dim, ...collapse, head: layer.head !== undefined, detectors: methods });
    const planned: { method: Method; hyper: Hyperparameters; into: OodCell[] }[] = [];
    for (const method of methods) {
      const defaults = defaultHyperparameters(method, layer, data.trainLabels.length);
      const choice = sweep?.choices[`${layer.name}/${method}`];
      hyperparameters[`${layer.name}/${method}`] = choice?.chosen ?? defaults;
      planned.push({ method, hyper: choice?.chosen ?? defaults, into: cells });
      if (choice) planned.push({ method, hyper: defaults, into: defaultCells });
    }
    // Every detector fitted on all train rows (shared states computed once: ood-fits.ts), then each query set read
    // once and scored by all of them; the ID test scores serve every OOD set.
    options.onProgress?.(done, total, `fit ${layer.name}: ${methods.length} detectors`);
    const fitData = { batches: train, dim: layer.dim, numClasses: data.numClasses, head: layer.head };
    const names = { features: `layers.${layer.name}.train`, labels: 'labels.train', head: `layers.${layer.name}.weights`, principalDim: 'principalDim', logitWidth: 'weights' };
    const fitted = await fitLayerDetectors(planned, fitData, { backend }, names, (work) => timed('fit', work));
    try {
      const score = async (source: RowSource, what: string) => {
        options.onProgress?.(done, total, `score ${layer.name} ${what}`);
        return scoreRows(source, fitted, (work) => timed('score', work), (rows) => options.onRows?.(rows, source.rows, `score ${layer.name} ${what}`));
      };
      const idScores = await score(layer.test, 'ID test');
      for (const set of data.ood) {
        const features = set.layers.get(layer.name);
        if (!features) continue;
        const oodScores = await score(features, set.name);
        for (const [i, { method, into }] of planned.entries()) {
          const report: OODReport = await timed('evaluate', () => evaluateOOD(idScores[i], oodScores[i], { bootstrap }));
          const cell = { detector: method, layer: layer.name, ood: set.name, group: set.group } as OodCell;
          for (const key of CELL_METRICS) cell[key] = report[key];
          if (report.ci) cell.ci = Object.fromEntries(CELL_METRICS.map((key) => [key, report.ci![key]])) as OodCell['ci'];
          into.push(cell);
        }
      }
    } finally {
      for (const detector of fitted) detector.dispose();
    }
    done += planned.length;
  }
  options.onProgress?.(done, total, 'done');

  const averages: OodTableResult['averages'] = [];
  for (const { layer, methods } of plan) {
    for (const detector of methods) {
      for (const group of ['near', 'far', 'all'] as const) {
        const mine = cells.filter((c) => c.detector === detector && c.layer === layer.name && (group === 'all' || c.group === group));
        if (mine.length === 0) continue;
        averages.push({ detector, layer: layer.name, group, auroc: mean(mine.map((c) => c.auroc)), fpr95: mean(mine.map((c) => c.fpr95)), sets: mine.length });
      }
    }
  }

  // Rankings by AUROC; a block is one (layer, OOD set), over the detectors present in every block compared.
  const cellOf = (detector: Method, layer: string, ood: string) => cells.find((c) => c.detector === detector && c.layer === layer && c.ood === ood);
  const rank = (blocks: { layer: string; ood: string }[], methods: Method[]): FriedmanResult | null => {
    const usable = blocks.filter((b) => methods.every((m) => cellOf(m, b.layer, b.ood)));
    if (usable.length === 0 || methods.length < 2) return null;
    return friedman(methods, usable.map((b) => methods.map((m) => cellOf(m, b.layer, b.ood)!.auroc)), true);
  };
  const perLayer: Record<string, FriedmanResult> = {};
  for (const { layer, methods } of plan) {
    const result = rank(data.ood.map((s) => ({ layer: layer.name, ood: s.name })), methods);
    if (result) perLayer[layer.name] = result;
  }
  const common = METHODS.filter((m) => plan.every((p) => p.methods.includes(m)));
  const overall = rank(plan.flatMap((p) => data.ood.map((s) => ({ layer: p.layer.name, ood: s.name }))), common);

  const nc1Correlation = METHODS.filter((m) => plan.some((p) => p.methods.includes(m))).map((detector) => {
    const points = layers
      .map((l) => ({ nc1: l.nc1, fpr: averages.find((a) => a.detector === detector && a.layer === l.name && a.group === 'all')?.fpr95 }))
      .filter((p): p is { nc1: number; fpr: number } => p.fpr !== undefined && p.nc1 !== null && Number.isFinite(p.nc1));
    if (points.length < 3) return { detector, layers: points.length, pearson: null, spearman: null };
    const x = points.map((p) => p.nc1);
    const y = points.map((p) => p.fpr);
    return { detector, layers: points.length, pearson: pearson(x, y), spearman: pearson(ranksOf(x, false), ranksOf(y, false)) };
  });

  seconds.total = (performance.now() - start) / 1000;
  return { layers, hyperparameters, cells, averages, ranking: { perLayer, overall }, nc1Correlation, seconds, ...(sweep && { sweep: { ...sweep, defaultCells } }) };
}
