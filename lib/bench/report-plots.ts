// The report's plots as static SVG: Vega-Lite specs compiled to Vega and rendered headless in Node
// (renderer 'none' + view.toSVG()), so the HTML needs no script to show them.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

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

export const meanOf = (values: Record<string, number>): number => {
  const v = Object.values(values);
  return v.reduce((a, b) => a + b, 0) / v.length;
};

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const runColor = { field: 'run', type: 'nominal', title: 'Run', scale: { domain: Object.values(RUN_LABELS), range: RUN_COLORS } } as const;

/** Layer names in network order over both runs (the NC model adds proj1 and projector after the encoder). */
export function layerOrder(result: PaperResult): string[] {
  const names: string[] = [];
  for (const key of RUN_KEYS) for (const name of Object.keys(result.runs[key].layers)) if (!names.includes(name)) names.push(name);
  return names;
}

function layersOf(result: PaperResult): { run: string; layer: string; r: LayerResult }[] {
  return RUN_KEYS.flatMap((key) =>
    Object.entries((result.runs[key] as RunResult).layers).map(([layer, r]) => ({ run: RUN_LABELS[key], layer, r })),
  );
}

/** Figure 1 of the paper: NC1 (log) against FPR95 or transfer error, one point per (run, layer, OOD set). */
function scatterSpec(result: PaperResult, metric: 'fpr95' | 'transfer_error'): TopLevelSpec {
  const values = layersOf(result).flatMap(({ run, layer, r }) =>
    result.config.ood_sets.map((set) => ({
      run, layer, set, nc1: r.nc1,
      y: 100 * (metric === 'fpr95' ? r.fpr95[set] : 1 - r.transfer_acc[set]),
    })),
  ).filter((p) => p.nc1 > 0 && Number.isFinite(p.y)); // a log axis cannot show NC1 ≤ 0
  const r = metric === 'fpr95' ? result.correlation.nc1_vs_fpr95 : result.correlation.nc1_vs_transfer_error;
  const label = metric === 'fpr95' ? 'FPR95' : 'Transfer error';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: `NC1 vs ${label} (Pearson R = ${fixed(r, 2)})`,
    width: 340,
    height: 260,
    data: { values },
    mark: { type: 'point', filled: true, size: 70, opacity: 0.85 },
    encoding: {
      x: { field: 'nc1', type: 'quantitative', title: 'NC1 (log scale)', scale: { type: 'log' } },
      y: { field: 'y', type: 'quantitative', title: `${label} (%)`, scale: { domain: [0, 100] } },
      color: runColor,
      shape: { field: 'set', type: 'nominal', title: 'OOD set', scale: { domain: result.config.ood_sets } },
    },
  };
}

/** Per-layer bars of NC1, mean FPR95 and mean transfer accuracy, both runs side by side. */
function layerBarsSpec(result: PaperResult): TopLevelSpec {
  const rows = layersOf(result);
  const panel = (title: string, field: string, value: (r: LayerResult) => number, log = false) => {
    const values = rows.filter(({ r }) => !log || value(r) > 0).map(({ run, layer, r }) => ({ run, layer, [field]: value(r) }));
    // Bars on a log axis need an explicit base: the power of ten below the smallest value.
    const base = 10 ** Math.floor(Math.log10(Math.min(...values.map((d) => d[field] as number))));
    return {
      title,
      width: 230,
      height: 200,
      data: { values },
      mark: 'bar' as const,
      encoding: {
        x: { field: 'layer', type: 'nominal' as const, title: 'Layer', sort: layerOrder(result), axis: { labelAngle: 0 } },
        xOffset: { field: 'run', type: 'nominal' as const, scale: { domain: Object.values(RUN_LABELS) } },
        y: { field, type: 'quantitative' as const, title: null, scale: log ? { type: 'log' as const } : { domain: [0, 100] } },
        ...(log ? { y2: { datum: base } } : {}),
        color: runColor,
      },
    };
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    hconcat: [
      panel('NC1 (log scale)', 'nc1', (r) => r.nc1, true),
      panel('Mean FPR95 (%)', 'fpr95', (r) => 100 * meanOf(r.fpr95)),
      panel('Mean transfer accuracy (%)', 'transfer', (r) => 100 * meanOf(r.transfer_acc)),
    ],
  };
}

/** ID vs OOD energy histograms (normalised to fractions) of the encoders and the NC projector. */
function histogramSpec(result: PaperResult): TopLevelSpec | undefined {
  const panels: [string, LayerResult | undefined][] = [
    ['Baseline encoder', result.runs.baseline.layers.encoder],
    ['NC control encoder', result.runs.nc_control.layers.encoder],
    ['NC control projector', result.runs.nc_control.layers.projector],
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
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, hconcat: specs };
}

/** All plots of the report, in order; the histogram plot only when the result has score histograms. */
export async function renderPlots(result: PaperResult): Promise<Plot[]> {
  const seed = result.seeds.length > 1 ? ` The plot shows the first seed (${result.config.seeds[0]}).` : '';
  const plots: Plot[] = [
    {
      id: 'nc1-vs-fpr95',
      title: 'NC1 vs OOD detection error',
      caption: `One point per (run, layer, OOD set). R is the Pearson correlation across layers of NC1 with the FPR95 averaged over OOD sets (paper: R = 0.77).${seed}`,
      svg: await renderSvg(scatterSpec(result, 'fpr95')),
    },
    {
      id: 'nc1-vs-transfer',
      title: 'NC1 vs transfer error',
      caption: `Transfer error = 100 − accuracy of a linear probe trained on each OOD set's own labels. R across layers with the mean over OOD sets (paper: R = −0.60).${seed}`,
      svg: await renderSvg(scatterSpec(result, 'transfer_error')),
    },
    {
      id: 'per-layer',
      title: 'Per layer',
      caption: `NC1, FPR95 and transfer accuracy (means over OOD sets) for each layer of both runs.${seed}`,
      svg: await renderSvg(layerBarsSpec(result)),
    },
  ];
  const histograms = histogramSpec(result);
  if (histograms) {
    plots.push({
      id: 'histograms',
      title: 'Energy scores, ID vs OOD',
      caption: `Histograms of the energy score of the ID probe on the test sets, each normalised to fractions.${seed}`,
      svg: await renderSvg(histograms),
    });
  }
  return plots;
}
