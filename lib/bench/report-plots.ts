// The report's plots as static SVG: Vega-Lite specs compiled to Vega and rendered headless in Node
// (renderer 'none' + view.toSVG()), so the HTML needs no script to show them.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

import { meanOf, meanStd } from './paper-stats.js';
import type { LayerResult, PaperResult, RunResult } from './paper-types.js';

export interface Plot {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

export const RUN_LABELS = { baseline: 'Baseline', nc_control: 'NC control' } as const;
type RunKey = keyof typeof RUN_LABELS;
const RUN_KEYS = Object.keys(RUN_LABELS) as RunKey[];
const RUN_COLORS = ['#7f7f7f', '#d62728'];

const CONFIG = {
  font: 'sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
  title: { fontSize: 13 },
};

/** Renders a Vega-Lite spec to an SVG string without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export { meanOf, meanStd };

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const runColor = { field: 'run', type: 'nominal', title: 'Run', scale: { domain: Object.values(RUN_LABELS), range: RUN_COLORS } } as const;

/** Layer names in network order over both runs (the NC model adds proj1 and projector after the encoder). */
export function layerOrder(result: PaperResult): string[] {
  const names: string[] = [];
  for (const key of RUN_KEYS) for (const name of Object.keys(result.runs[key].layers)) if (!names.includes(name)) names.push(name);
  return names;
}

/** The seeds' results; a result without `seeds` (an older file) counts as one seed from `runs`. */
export function seedsOf(result: PaperResult): { seed: number; runs: PaperResult['runs'] }[] {
  return result.seeds.length > 0 ? result.seeds : [{ seed: result.config.seeds[0] ?? 0, runs: result.runs }];
}


/** Every (seed, run, layer) with its result. */
function layersOf(result: PaperResult): { seed: number; run: string; layer: string; r: LayerResult }[] {
  return seedsOf(result).flatMap(({ seed, runs }) =>
    RUN_KEYS.flatMap((key) =>
      Object.entries((runs[key] as RunResult).layers).map(([layer, r]) => ({ seed, run: RUN_LABELS[key], layer, r })),
    ),
  );
}

type Point = Record<string, string | number>;

/** Mean ± std over seeds of `y` per group of `keys`, with `x` averaged too: the points error bars are drawn at. */
function meansOver(points: Point[], keys: string[], fields: string[]): Point[] {
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    const id = JSON.stringify(keys.map((k) => p[k]));
    groups.set(id, [...(groups.get(id) ?? []), p]);
  }
  return [...groups.values()].map((group) => {
    const out: Point = Object.fromEntries(keys.map((k) => [k, group[0][k]]));
    for (const f of fields) {
      const s = meanStd(group.map((p) => p[f] as number));
      Object.assign(out, { [f]: s.mean, [`${f}_lo`]: s.mean - s.std, [`${f}_hi`]: s.mean + s.std });
    }
    out.seeds = group.length;
    return out;
  });
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const perSeedNote = (n: number) => (n > 1 ? `mean ± std over ${n} seeds` : 'one seed');

/** "R = 0.77" or "R = 0.77 ± 0.05 over 3 seeds": the correlation across layers, of each seed. */
function correlationTitle(result: PaperResult, metric: 'nc1_vs_fpr95' | 'nc1_vs_transfer_error'): string {
  const seeds = result.seeds.length > 0 ? result.seeds : [{ correlation: result.correlation }];
  const s = meanStd(seeds.map((x) => x.correlation[metric]));
  return seeds.length > 1 ? `R = ${fixed(s.mean, 2)} ± ${fixed(s.std, 2)} over ${seeds.length} seeds` : `R = ${fixed(s.mean, 2)}`;
}

/**
 * Figure 1 of the paper: NC1 (log) against FPR95 or transfer error per (run, layer, OOD set): the mean over seeds
 * (filled, labelled with the layer, ± std error bars) and each seed's point (hollow).
 */
function scatterSpec(result: PaperResult, metric: 'fpr95' | 'transfer_error'): TopLevelSpec {
  const values = layersOf(result).flatMap(({ seed, run, layer, r }) =>
    result.config.ood_sets.map((set) => ({
      seed, run, layer, set, nc1: r.nc1,
      y: 100 * (metric === 'fpr95' ? r.fpr95[set] : 1 - r.transfer_acc[set]),
    })),
  ).filter((p) => p.nc1 > 0 && Number.isFinite(p.y)); // a log axis cannot show NC1 ≤ 0
  const means = meansOver(values, ['run', 'layer', 'set'], ['nc1', 'y']);
  const label = metric === 'fpr95' ? 'FPR95' : 'Transfer error';
  const x = { field: 'nc1', type: 'quantitative', title: 'NC1 (log scale)', scale: { type: 'log' } } as const;
  const y = { field: 'y', type: 'quantitative' as const, title: `${label} (%)`, scale: { domain: [0, 100] } };
  const shape = { field: 'set', type: 'nominal', title: 'OOD set', scale: { domain: result.config.ood_sets } } as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: `NC1 vs ${label} (Pearson ${correlationTitle(result, metric === 'fpr95' ? 'nc1_vs_fpr95' : 'nc1_vs_transfer_error')})`,
    width: 380,
    height: 280,
    layer: [
      { data: { values }, mark: { type: 'point', filled: false, size: 30, opacity: 0.5 }, encoding: { x, y, color: runColor, shape } },
      {
        data: { values: means },
        mark: { type: 'rule', strokeWidth: 1.2 },
        encoding: { x, y: { field: 'y_lo', type: 'quantitative' }, y2: { field: 'y_hi' }, color: runColor },
      },
      { data: { values: means }, mark: { type: 'point', filled: true, size: 80, opacity: 0.9 }, encoding: { x, y, color: runColor, shape } },
      {
        data: { values: means },
        mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 10 },
        encoding: { x, y, text: { field: 'layer', type: 'nominal' }, color: runColor },
      },
    ],
  };
}

/** Bars (mean over seeds) with ± std error bars and each seed's value as a tick, grouped by layer and run. */
function barsWithSeeds(title: string, values: Point[], field: string, order: string[], domain?: number[]) {
  const means = meansOver(values, ['run', 'layer'], [field]);
  const x = { field: 'layer', type: 'nominal' as const, title: 'Layer', sort: order, axis: { labelAngle: 0 } };
  const xOffset = { field: 'run', type: 'nominal' as const, scale: { domain: Object.values(RUN_LABELS) } };
  const y = { field, type: 'quantitative' as const, title: null, scale: domain ? { domain } : { zero: true } };
  return {
    title,
    width: 240,
    height: 200,
    layer: [
      { data: { values: means }, mark: { type: 'bar' as const, opacity: 0.8 }, encoding: { x, xOffset, y, color: runColor } },
      {
        data: { values: means },
        mark: { type: 'rule' as const, color: '#222' },
        encoding: { x, xOffset, y: { field: `${field}_lo`, type: 'quantitative' as const }, y2: { field: `${field}_hi` } },
      },
      { data: { values }, mark: { type: 'tick' as const, color: '#222', thickness: 1, size: 8 }, encoding: { x, xOffset, y } },
    ],
  };
}

/** Per-layer NC1, mean FPR95 and mean transfer accuracy of both runs (linear axes: bar lengths compare). */
function layerBarsSpec(result: PaperResult): TopLevelSpec {
  const rows = layersOf(result);
  const order = layerOrder(result);
  const values = (field: string, value: (r: LayerResult) => number) =>
    rows.map(({ seed, run, layer, r }) => ({ seed, run, layer, [field]: value(r) })).filter((p) => Number.isFinite(p[field]));
  return {
    $schema: SCHEMA,
    config: CONFIG,
    hconcat: [
      barsWithSeeds('NC1', values('nc1', (r) => r.nc1), 'nc1', order),
      barsWithSeeds('Mean FPR95 (%)', values('fpr95', (r) => 100 * meanOf(r.fpr95)), 'fpr95', order, [0, 100]),
      barsWithSeeds('Mean transfer accuracy (%)', values('transfer', (r) => 100 * meanOf(r.transfer_acc)), 'transfer', order, [0, 100]),
    ],
  };
}

/**
 * The encoders' mean transfer accuracy against the transfer probe's rows: one line per run and probe-epoch
 * setting, the mean over seeds with ± std error bars and each seed's point.
 */
function transferBudgetSpec(result: PaperResult): TopLevelSpec | undefined {
  const t = result.transfer_budget;
  if (!t) return undefined;
  const values = t.cells.map((c) => ({
    run: RUN_LABELS[c.run], rows: String(c.rows), epochs: `${c.probe_epochs} epochs`, seed: c.seed, acc: 100 * c.mean_transfer_acc,
  }));
  const means = meansOver(values, ['run', 'rows', 'epochs'], ['acc']);
  const x = { field: 'rows', type: 'ordinal', title: "Rows of each OOD set's train split", sort: t.rows.map(String), axis: { labelAngle: 0 } } as const;
  const y = { field: 'acc', type: 'quantitative', title: 'Mean transfer accuracy (%)', scale: { zero: false } } as const;
  const dash = { field: 'epochs', type: 'nominal', title: 'Probe', sort: t.probe_epochs.map((e) => `${e} epochs`) } as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    width: 380,
    height: 260,
    layer: [
      { data: { values: means }, mark: { type: 'line' }, encoding: { x, y, color: runColor, strokeDash: dash } },
      { data: { values: means }, mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y, color: runColor } },
      {
        data: { values: means },
        mark: { type: 'rule' },
        encoding: { x, y: { field: 'acc_lo', type: 'quantitative' }, y2: { field: 'acc_hi' }, color: runColor },
      },
      { data: { values }, mark: { type: 'point', filled: false, size: 25, opacity: 0.6 }, encoding: { x, y, color: runColor } },
    ],
  };
}

/** ID vs OOD energy histograms (normalised to fractions) of the encoders and the NC projector. */
function histogramSpec(result: PaperResult): TopLevelSpec | undefined {
  // Histograms do not average over seeds (each seed has its own bin edges): the first seed's, said in the title.
  const seed = result.seeds.length > 1 ? ` (seed ${result.config.seeds[0]})` : '';
  const panels: [string, LayerResult | undefined][] = [
    [`Baseline encoder${seed}`, result.runs.baseline.layers.encoder],
    [`NC control encoder${seed}`, result.runs.nc_control.layers.encoder],
    [`NC control projector${seed}`, result.runs.nc_control.layers.projector],
  ];
  const idLabel = `ID (${result.config.id})`;
  const sets = [idLabel, ...result.config.ood_sets];
  const specs = panels.flatMap(([title, layer]) => {
    const h = layer?.score_histogram;
    if (!h) return [];
    const centres = h.edges.slice(1).map((hi, i) => (h.edges[i] + hi) / 2);
    const steps = (set: string, counts: number[]) => {
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return counts.map((c, i) => ({ set, score: centres[i], fraction: c / total }));
    };
    const values = [steps(idLabel, h.id), ...Object.entries(h.ood).map(([set, counts]) => steps(set, counts))].flat();
    return [{
      title,
      width: 230,
      height: 180,
      data: { values },
      mark: { type: 'area' as const, interpolate: 'step' as const, opacity: 0.35, line: true },
      encoding: {
        x: { field: 'score', type: 'quantitative' as const, title: 'Energy score (higher = more ID)', scale: { zero: false, nice: false } },
        y: { field: 'fraction', type: 'quantitative' as const, title: 'Fraction of samples', stack: null },
        color: { field: 'set', type: 'nominal' as const, title: 'Test set', scale: { domain: sets } },
      },
    }];
  });
  if (specs.length === 0) return undefined;
  return { $schema: SCHEMA, config: CONFIG, hconcat: specs };
}

/** All plots of the report, in order; the histograms and the transfer budget only when the result has them. */
export async function renderPlots(result: PaperResult): Promise<Plot[]> {
  const n = seedsOf(result).length;
  const seeds = n > 1 ? ` Filled points and bars: ${perSeedNote(n)} (error bars ± std); hollow points and ticks: each seed.` : '';
  const plots: Plot[] = [
    {
      id: 'nc1-vs-fpr95',
      title: 'NC1 vs OOD detection error',
      caption: `One point per (run, layer, OOD set), labelled with the layer. R is the Pearson correlation across layers of NC1 with the FPR95 averaged over OOD sets, per seed (paper: R = 0.77).${seeds}`,
      svg: await renderSvg(scatterSpec(result, 'fpr95')),
    },
    {
      id: 'nc1-vs-transfer',
      title: 'NC1 vs transfer error',
      caption: `Transfer error = 100 − accuracy of a linear probe trained on each OOD set's own labels. R across layers with the mean over OOD sets, per seed (paper: R = −0.60).${seeds}`,
      svg: await renderSvg(scatterSpec(result, 'transfer_error')),
    },
    {
      id: 'per-layer',
      title: 'Per layer',
      caption: `NC1, FPR95 and transfer accuracy (means over OOD sets) for each layer of both runs, on linear axes.${seeds}`,
      svg: await renderSvg(layerBarsSpec(result)),
    },
  ];
  const budget = transferBudgetSpec(result);
  if (budget) {
    plots.push({
      id: 'transfer-budget',
      title: "Transfer accuracy vs the transfer probe's budget",
      caption: `The encoders' transfer accuracy (mean over OOD sets) with probes trained on per-class balanced subsets of each OOD set's train split, one line per run and probe-epoch setting. Claim (2) holds where the NC control line lies above the baseline's.${seeds}`,
      svg: await renderSvg(budget),
    });
  }
  const histograms = histogramSpec(result);
  if (histograms) {
    plots.push({
      id: 'histograms',
      title: 'Energy scores, ID vs OOD',
      caption: `Histograms of the energy score of the ID probe on the test sets, each normalised to fractions.${n > 1 ? ` The first seed (${result.config.seeds[0]}): bin edges differ between seeds.` : ''}`,
      svg: await renderSvg(histograms),
    });
  }
  return plots;
}
