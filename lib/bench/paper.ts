// The paper's protocol at small scale (METHOD.md §1, §5, §6): train a baseline and an NC-controlled model on
// the ID set; for every layer, on frozen features: NC1 on ID train, OOD detection with the energy of a linear
// probe trained on ID features, OOD generalisation with a probe trained on each OOD set's own labels; then
// correlations across layers and the paper's four claims.
import type { BackendName } from '../backend.js';
import { loadFashionMnist, loadMnist, selectClasses, type LabelledImages } from '../data/index.js';
import { fail } from '../errors.js';
import { ncMetrics } from '../metrics/nc.js';
import { evaluateOOD } from '../ood/evaluate.js';
import { LinearProbe } from '../ood/probe.js';
import { mulberry32 } from '../random.js';
import { runEnvironment } from '../run-environment.js';
import { Trainer, type LayerName } from '../train/trainer.js';
import { meanOf, meanStd } from './paper-stats.js';
import { balancedSubset, checkTransferBudget, gatherRows, transferBudgetTable, type TransferBudget } from './paper-budget.js';
import type { Claims, LayerResult, PaperResult, ProtocolName, RunResult, SeedResult, TransferBudgetPoint } from './paper-types.js';

export interface Split {
  train: LabelledImages;
  test: LabelledImages;
}

export interface PaperData {
  id: { name: string; classes: number; split: Split };
  ood: { name: string; classes: number; split: Split }[];
}

export interface PaperOptions {
  protocol?: ProtocolName;
  /** Your own ID and OOD sets instead of a built-in protocol. */
  data?: PaperData;
  seeds?: number[];
  epochs?: number;
  probeEpochs?: number;
  /**
   * Also re-fit the encoders' transfer probes on each budget: rows of each OOD set's train split (per-class
   * balanced) × probe epochs. Models are trained once per seed; the main tables keep all rows and `probeEpochs`.
   * Missing lists default to ['all'] and [probeEpochs].
   */
  transferBudget?: Partial<TransferBudget>;
  /** Encoder widths after the input (default 512, 512, 512). */
  layers?: number[];
  /** A small, fast configuration for smoke tests (subsampled data, few epochs, narrow layers). */
  quick?: boolean;
  backend?: BackendName;
  signal?: AbortSignal;
  /** A description of the current stage and the overall fraction done. */
  onProgress?: (stage: string, fraction: number) => void;
}

const HISTOGRAM_BINS = 40;

/** The built-in protocols: Fashion-MNIST 0–4 vs Fashion 5–9 (near) and MNIST (far), or the MNIST mirror image. */
export async function loadProtocol(protocol: ProtocolName): Promise<PaperData> {
  const [mnist, fashion] = await Promise.all(
    [loadMnist, loadFashionMnist].map(async (load) => ({ train: await load('train'), test: await load('test') })),
  );
  const pick = (s: Split, classes: number[]): Split => ({ train: selectClasses(s.train, classes), test: selectClasses(s.test, classes) });
  const [low, high] = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]];
  if (protocol === 'fashion') {
    return {
      id: { name: 'fashion_0_4', classes: 5, split: pick(fashion, low) },
      ood: [
        { name: 'fashion_5_9', classes: 5, split: pick(fashion, high) },
        { name: 'mnist', classes: 10, split: mnist },
      ],
    };
  }
  if (protocol === 'mnist') {
    return {
      id: { name: 'mnist_0_4', classes: 5, split: pick(mnist, low) },
      ood: [
        { name: 'mnist_5_9', classes: 5, split: pick(mnist, high) },
        { name: 'fashion', classes: 10, split: fashion },
      ],
    };
  }
  return fail('ERR_INVALID_ARGUMENT', 'protocol', "'fashion' or 'mnist'", String(protocol));
}

/** A seeded subsample of at most `rows` rows (quick mode). */
function subsample(d: LabelledImages, rows: number, seed: number): LabelledImages {
  if (d.rows <= rows) return d;
  const random = mulberry32(seed);
  const picked = Array.from({ length: d.rows }, (_, i) => i);
  for (let i = 0; i < rows; i++) {
    const j = i + Math.floor(random() * (d.rows - i));
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  const keep = picked.slice(0, rows).sort((a, b) => a - b);
  return { features: gatherRows(d.features, d.dim, keep), labels: Int32Array.from(keep, (row) => d.labels[row]), rows, dim: d.dim };
}

export function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}


function histogram(id: Float64Array, ood: Record<string, Float64Array>): LayerResult['score_histogram'] {
  const all = [id, ...Object.values(ood)];
  let lo = Infinity, hi = -Infinity;
  for (const a of all) for (const v of a) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const width = (hi - lo) / HISTOGRAM_BINS || 1;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + i * width);
  const count = (a: Float64Array) => {
    const bins = new Array<number>(HISTOGRAM_BINS).fill(0);
    for (const v of a) bins[Math.min(HISTOGRAM_BINS - 1, Math.floor((v - lo) / width))]++;
    return bins;
  };
  return { edges, id: count(id), ood: Object.fromEntries(Object.entries(ood).map(([k, v]) => [k, count(v)])) };
}

export interface Settings {
  seeds: number[];
  epochs: number;
  probeEpochs: number;
  layers: number[];
  quick: boolean;
  backend: BackendName;
  budget?: TransferBudget;
}

/** The options with their defaults (quick mode's smaller ones included). */
export function paperSettings(o: PaperOptions): Settings {
  const quick = o.quick ?? false;
  const probeEpochs = o.probeEpochs ?? (quick ? 3 : 30);
  const b = o.transferBudget;
  return {
    seeds: o.seeds ?? [0],
    epochs: o.epochs ?? (quick ? 2 : 10),
    probeEpochs,
    budget: b ? checkTransferBudget({ rows: b.rows ?? ['all'], probeEpochs: b.probeEpochs ?? [probeEpochs] }) : undefined,
    layers: o.layers ?? (quick ? [64, 64] : [512, 512, 512]),
    quick,
    backend: o.backend ?? 'cpu',
  };
}

/** Evaluates one layer of a trained model on frozen features. */
async function evaluateLayer(
  trainer: Trainer,
  layer: LayerName,
  data: PaperData,
  s: Settings,
  seed: number,
  withHistogram: boolean,
): Promise<LayerResult> {
  const feats = (x: LabelledImages) => trainer.features(x.features, layer);
  const idTrain = await feats(data.id.split.train);
  const nc1 = (await ncMetrics({ features: idTrain, labels: data.id.split.train.labels, numClasses: data.id.classes, backend: s.backend })).nc1!;
  // The paper L2-normalises projector features for its probes; the projector output is unit-norm already.
  const normalize = layer === 'projector';
  const probe = await LinearProbe.fit({
    features: idTrain, labels: data.id.split.train.labels, numClasses: data.id.classes,
    epochs: s.probeEpochs, normalize, seed, backend: s.backend,
  });
  const idScores = await probe.energy(await feats(data.id.split.test));
  const result: LayerResult = { nc1, fpr95: {}, auroc: {}, transfer_acc: {} };
  const oodScores: Record<string, Float64Array> = {};
  for (const set of data.ood) {
    const testFeatures = await feats(set.split.test);
    oodScores[set.name] = await probe.energy(testFeatures);
    const report = evaluateOOD(idScores, oodScores[set.name]);
    result.fpr95[set.name] = report.fpr95;
    result.auroc[set.name] = report.auroc;
    const transfer = await LinearProbe.fit({
      features: await feats(set.split.train), labels: set.split.train.labels, numClasses: set.classes,
      epochs: s.probeEpochs, normalize, seed, backend: s.backend,
    });
    result.transfer_acc[set.name] = await transfer.accuracy(testFeatures, set.split.test.labels);
  }
  if (withHistogram) result.score_histogram = histogram(idScores, oodScores);
  return result;
}

/**
 * The encoder's transfer accuracy on every budget of the sweep: each OOD set's train features computed once, a
 * probe fitted per (rows, epochs). The subset depends on the seed and the set only, so both runs of a seed see the
 * same rows. `full` is the accuracy already measured at (all rows, s.probeEpochs), reused rather than re-fitted.
 */
async function transferBudgetOf(
  trainer: Trainer, data: PaperData, s: Settings, budget: TransferBudget, seed: number, full: Record<string, number>,
): Promise<TransferBudgetPoint[]> {
  const points: TransferBudgetPoint[] = budget.rows.flatMap((rows) =>
    budget.probeEpochs.map((probe_epochs) => ({ rows, probe_epochs, rows_used: {}, transfer_acc: {} })),
  );
  for (const [k, set] of data.ood.entries()) {
    const train = await trainer.features(set.split.train.features, 'encoder');
    const test = await trainer.features(set.split.test.features, 'encoder');
    const width = train.length / set.split.train.rows;
    for (const rows of budget.rows) {
      const all = rows === 'all' || rows >= set.split.train.rows;
      const keep = all ? undefined : balancedSubset(set.split.train.labels, set.classes, rows, (seed * 7_919 + k + 1) >>> 0);
      const features = keep ? gatherRows(train, width, keep) : train;
      const labels = keep ? Int32Array.from(keep, (i) => set.split.train.labels[i]) : set.split.train.labels;
      for (const probe_epochs of budget.probeEpochs) {
        const point = points.find((p) => p.rows === rows && p.probe_epochs === probe_epochs)!;
        point.rows_used[set.name] = labels.length;
        if (all && probe_epochs === s.probeEpochs) {
          point.transfer_acc[set.name] = full[set.name];
          continue;
        }
        const probe = await LinearProbe.fit({ features, labels, numClasses: set.classes, epochs: probe_epochs, seed, backend: s.backend });
        point.transfer_acc[set.name] = await probe.accuracy(test, set.split.test.labels);
      }
    }
  }
  return points;
}

/** Layer names as reported: enc1..enc(K−1), encoder (= encK), then proj1 and projector with the ETF projector. */
export function reportedLayers(trainer: Trainer): LayerName[] {
  const names = trainer.layerNames();
  const K = trainer.options.layers.length - 1;
  return names.map((n) => (n === `enc${K}` ? 'encoder' : n));
}

function claimsOf(runs: SeedResult['runs'], correlation: SeedResult['correlation']): Claims {
  const [base, nc] = [runs.baseline.layers, runs.nc_control.layers];
  return {
    projector_detects_better: meanOf(nc.projector.fpr95) < meanOf(base.encoder.fpr95),
    encoder_transfers_better: meanOf(nc.encoder.transfer_acc) > meanOf(base.encoder.transfer_acc),
    projector_more_collapsed: nc.projector.nc1 < nc.encoder.nc1,
    ...correlationClaims(correlation),
  };
}

/** Claim (4) and its two parts (4a, 4b) from the two correlations across layers. */
function correlationClaims(r: SeedResult['correlation']): Pick<Claims, 'nc1_correlations_as_paper' | 'nc1_correlates_with_fpr95' | 'nc1_anticorrelates_with_transfer_error'> {
  const [a, b] = [r.nc1_vs_fpr95 > 0, r.nc1_vs_transfer_error < 0];
  return { nc1_correlations_as_paper: a && b, nc1_correlates_with_fpr95: a, nc1_anticorrelates_with_transfer_error: b };
}

function correlationOf(runs: SeedResult['runs']) {
  const points = [...Object.values(runs.baseline.layers), ...Object.values(runs.nc_control.layers)];
  const nc1 = points.map((p) => p.nc1);
  return {
    nc1_vs_fpr95: pearson(nc1, points.map((p) => meanOf(p.fpr95))),
    nc1_vs_transfer_error: pearson(nc1, points.map((p) => 1 - meanOf(p.transfer_acc))),
  };
}

/** The numbers of the paper's table for one seed. */
function summaryOf(r: SeedResult): Record<string, number> {
  const [base, nc] = [r.runs.baseline.layers, r.runs.nc_control.layers];
  return {
    baseline_fpr95: meanOf(base.encoder.fpr95),
    nc_control_fpr95: meanOf(nc.projector.fpr95),
    nc_control_encoder_fpr95: meanOf(nc.encoder.fpr95),
    baseline_transfer_error: 1 - meanOf(base.encoder.transfer_acc),
    nc_control_transfer_error: 1 - meanOf(nc.encoder.transfer_acc),
    nc_control_projector_transfer_error: 1 - meanOf(nc.projector.transfer_acc),
    baseline_nc1_encoder: base.encoder.nc1,
    nc_control_nc1_encoder: nc.encoder.nc1,
    nc_control_nc1_projector: nc.projector.nc1,
    baseline_id_test_acc: r.runs.baseline.id_test_acc,
    nc_control_id_test_acc: r.runs.nc_control.id_test_acc,
    nc1_vs_fpr95: r.correlation.nc1_vs_fpr95,
    nc1_vs_transfer_error: r.correlation.nc1_vs_transfer_error,
  };
}

/** The ID and OOD sets of a run: the caller's own or a built-in protocol's, subsampled in quick mode. */
export async function paperData(options: PaperOptions, s: Settings = paperSettings(options)): Promise<PaperData> {
  const data = options.data ?? (await loadProtocol(options.protocol ?? 'fashion'));
  if (!s.quick) return data;
  const shrink = (sp: Split, k: number): Split => ({ train: subsample(sp.train, 2000, k), test: subsample(sp.test, 500, k + 1) });
  return { id: { ...data.id, split: shrink(data.id.split, 1) }, ood: data.ood.map((o, i) => ({ ...o, split: shrink(o.split, 10 + i) })) };
}

export const RUN_KINDS = ['baseline', 'nc_control'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** One of the paper's two models trained on the ID train split: no projector and α = 0, or the ETF projector with α = 0.05. */
export async function trainPaperModel(data: PaperData, kind: RunKind, s: Settings, seed: number, signal?: AbortSignal): Promise<Trainer> {
  const trainer = new Trainer({
    layers: [data.id.split.train.dim, ...s.layers], classes: data.id.classes,
    projector: kind === 'baseline' ? 'none' : 'etf', alpha: kind === 'baseline' ? 0 : 0.05,
    epochs: s.epochs, seed, backend: s.backend,
  });
  await trainer.fit(data.id.split.train.features, data.id.split.train.labels, { signal });
  return trainer;
}

export async function runPaperBenchmark(options: PaperOptions = {}): Promise<PaperResult> {
  const s = paperSettings(options);
  const protocol = options.protocol ?? 'fashion';
  const data = await paperData(options, s);
  const total = s.seeds.length * 2;
  let done = 0;
  const seedRuns: Pick<SeedResult, 'seed' | 'runs'>[] = [];
  for (const seed of s.seeds) {
    const runs = {} as SeedResult['runs'];
    for (const kind of RUN_KINDS) {
      const stage = `seed ${seed}, ${kind}`;
      options.onProgress?.(`${stage}: training`, done / total);
      const start = performance.now();
      const trainer = await trainPaperModel(data, kind, s, seed, options.signal);
      const train_seconds = (performance.now() - start) / 1000;
      const run: RunResult = {
        id_test_acc: (await trainer.evaluate(data.id.split.test.features, data.id.split.test.labels)).accuracy!,
        train_seconds,
        layers: {},
      };
      const names = reportedLayers(trainer);
      const steps = names.length + 1 + (s.budget ? 1 : 0);
      for (const [i, name] of names.entries()) {
        options.signal?.throwIfAborted();
        options.onProgress?.(`${stage}: layer ${name}`, (done + (i + 1) / steps) / total);
        run.layers[name] = await evaluateLayer(trainer, name, data, s, seed, name === 'encoder' || name === 'projector');
      }
      if (s.budget) {
        options.signal?.throwIfAborted();
        options.onProgress?.(`${stage}: transfer budgets`, (done + (names.length + 1) / steps) / total);
        run.transfer_budget = await transferBudgetOf(trainer, data, s, s.budget, seed, run.layers.encoder.transfer_acc);
      }
      runs[kind] = run;
      done++;
    }
    seedRuns.push({ seed, runs });
  }
  options.onProgress?.('done', 1);
  return assemblePaperResult(
    {
      protocol: options.data ? 'custom' : protocol,
      id: data.id.name,
      ood_sets: data.ood.map((o) => o.name),
      seeds: s.seeds,
      epochs: s.epochs,
      probe_epochs: s.probeEpochs,
      ...(s.budget ? { transfer_rows: s.budget.rows, probe_epochs_sweep: s.budget.probeEpochs } : {}),
      layers: s.layers,
      quick: s.quick,
      backend: s.backend,
      date: new Date().toISOString(),
      environment: runEnvironment(),
    },
    seedRuns,
  );
}

/** Correlations, claims and mean ± std over seeds, from each seed's two runs. */
export function assemblePaperResult(config: PaperResult['config'], seedRuns: Pick<SeedResult, 'seed' | 'runs'>[]): PaperResult {
  const seeds: SeedResult[] = seedRuns.map(({ seed, runs }) => {
    const correlation = correlationOf(runs);
    return { seed, runs, correlation, claims: claimsOf(runs, correlation) };
  });

  const perSeed = seeds.map(summaryOf);
  const summary = Object.fromEntries(
    Object.keys(perSeed[0]).map((key) => {
      return [key, meanStd(perSeed.map((p) => p[key]))];
    }),
  );
  const budget = transferBudgetTable(seeds);
  // Claims on the seed means (the table the README reports).
  const claims: Claims = {
    projector_detects_better: summary.nc_control_fpr95.mean < summary.baseline_fpr95.mean,
    encoder_transfers_better: summary.nc_control_transfer_error.mean < summary.baseline_transfer_error.mean,
    projector_more_collapsed: summary.nc_control_nc1_projector.mean < summary.nc_control_nc1_encoder.mean,
    ...correlationClaims({ nc1_vs_fpr95: summary.nc1_vs_fpr95.mean, nc1_vs_transfer_error: summary.nc1_vs_transfer_error.mean }),
  };
  return {
    config,
    runs: seeds[0].runs,
    correlation: { nc1_vs_fpr95: summary.nc1_vs_fpr95.mean, nc1_vs_transfer_error: summary.nc1_vs_transfer_error.mean },
    claims,
    summary,
    seeds,
    ...(budget ? { transfer_budget: budget } : {}),
  };
}
