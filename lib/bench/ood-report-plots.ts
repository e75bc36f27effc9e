// The plots of `ncod bench ood --report` as Vega-Lite specs, rendered to static SVG by bench paper's renderSvg
// (no script in the page): per OOD set a detector × layer heatmap of AUROC and of FPR95, a critical-difference
// plot of the overall Friedman ranking with its Holm groups, and NC1 against FPR95 across layers per detector.
import type { TopLevelSpec } from 'vega-lite';

import type { FriedmanResult } from '../stats/friedman.js';
import type { OodTableResult } from './ood-table.js';
import { renderSvg, type Plot } from './report-plots.js';

const CONFIG = { font: 'sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 13 } };
/** Holm-adjusted p at or above this joins two detectors in one critical-difference group. */
export const CD_ALPHA = 0.05;

function heatmapSpec(result: OodTableResult, ood: string, metric: 'auroc' | 'fpr95'): TopLevelSpec {
  const values = result.cells.filter((c) => c.ood === ood).map((c) => ({ detector: c.detector, layer: c.layer, value: c[metric] }));
  const layers = result.layers.map((l) => l.name);
  // AUROC: higher is better; FPR95: lower is better, so its scale is reversed to keep "good" the same colour.
  const scheme = { scheme: 'viridis' as const, domain: [0, 1], reverse: metric === 'fpr95' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title: `${metric === 'auroc' ? 'AUROC' : 'FPR95'} on ${ood}`,
    data: { values },
    width: Math.max(120, 60 * layers.length),
    height: { step: 18 },
    encoding: {
      x: { field: 'layer', type: 'nominal', sort: layers, title: 'layer' },
      y: { field: 'detector', type: 'nominal', title: 'detector' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', title: metric, scale: scheme } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: '.3f' },
          color: { condition: { test: metric === 'auroc' ? 'datum.value < 0.5' : 'datum.value > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/**
 * Critical-difference groups: maximal runs of detectors, in mean-rank order, whose pairwise Holm-adjusted p-values
 * are all ≥ CD_ALPHA (no significant difference inside a run), as Demšar's CD diagrams draw them.
 */
export function cdGroups(ranking: FriedmanResult): { from: number; to: number; members: string[] }[] {
  const order = ranking.methods.map((m, i) => ({ m, r: ranking.meanRanks[i] })).sort((a, b) => a.r - b.r);
  const same = (a: string, b: string) => {
    const pair = ranking.pairwise.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
    return pair === undefined || pair.pHolm >= CD_ALPHA;
  };
  const groups: { from: number; to: number; members: string[] }[] = [];
  let lastEnd = -1;
  for (let i = 0; i < order.length; i++) {
    let j = i;
    while (j + 1 < order.length && order.slice(i, j + 1).every((o) => same(o.m, order[j + 1].m))) j++;
    if (j > i && j > lastEnd) {
      groups.push({ from: order[i].r, to: order[j].r, members: order.slice(i, j + 1).map((o) => o.m) });
      lastEnd = j;
    }
  }
  return groups;
}

function cdSpec(ranking: FriedmanResult, title: string): TopLevelSpec {
  const points = ranking.methods.map((detector, i) => ({ detector, rank: ranking.meanRanks[i] }));
  const groups = cdGroups(ranking).map((g, k) => ({ ...g, lane: `group ${k + 1}`, label: g.members.join(', ') }));
  const x = { type: 'quantitative' as const, title: 'mean rank (1 = best AUROC)', scale: { domain: [1, Math.max(2, ranking.methods.length)], reverse: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    vconcat: [
      {
        width: 520,
        height: { step: 16 },
        data: { values: points },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { x: { field: 'rank', ...x }, y: { field: 'detector', type: 'nominal', sort: { field: 'rank' }, title: null } },
      },
      {
        width: 520,
        height: { step: 14 },
        data: { values: groups.length ? groups : [{ from: 1, to: 1, lane: 'no groups', label: '' }] },
        mark: { type: 'rule', strokeWidth: 4, color: '#444' },
        encoding: {
          x: { field: 'from', ...x, title: `Holm groups (p ≥ ${CD_ALPHA}: not significantly different)` },
          x2: { field: 'to' },
          y: { field: 'lane', type: 'nominal', title: null },
          tooltip: { field: 'label' },
        },
      },
    ],
  };
}

function nc1Spec(result: OodTableResult): TopLevelSpec {
  const nc1 = new Map(result.layers.map((l) => [l.name, l.nc1]));
  const values = result.averages
    .filter((a) => a.group === 'all' && nc1.get(a.layer) !== null && Number.isFinite(nc1.get(a.layer)))
    .map((a) => ({ detector: a.detector, layer: a.layer, nc1: nc1.get(a.layer)!, fpr95: a.fpr95 }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    data: { values },
    facet: { field: 'detector', type: 'nominal', title: null },
    columns: 4,
    spec: {
      width: 150,
      height: 120,
      layer: [
        { mark: { type: 'line', color: '#999' }, encoding: { x: { field: 'nc1', type: 'quantitative', scale: { type: 'log' }, title: 'NC1' }, y: { field: 'fpr95', type: 'quantitative', title: 'mean FPR95', scale: { domain: [0, 1] } }, order: { field: 'nc1' } } },
        { mark: { type: 'point', filled: true }, encoding: { x: { field: 'nc1', type: 'quantitative' }, y: { field: 'fpr95', type: 'quantitative' } } },
        { mark: { type: 'text', dy: -8, fontSize: 9 }, encoding: { x: { field: 'nc1', type: 'quantitative' }, y: { field: 'fpr95', type: 'quantitative' }, text: { field: 'layer' } } },
      ],
    },
  };
}

/** Every plot of the report, in page order. */
export async function renderOodPlots(result: OodTableResult): Promise<Plot[]> {
  const plots: Plot[] = [];
  const sets = [...new Set(result.cells.map((c) => c.ood))];
  for (const ood of sets) {
    for (const metric of ['auroc', 'fpr95'] as const) {
      plots.push({
        id: `heatmap-${metric}-${plots.length}`,
        title: `${metric === 'auroc' ? 'AUROC' : 'FPR95'}: ${ood}`,
        caption: `Each detector (rows) fitted on each layer (columns), scored on ${ood}. ${metric === 'fpr95' ? 'FPR95: ID positive (the paper’s convention); lower is better.' : 'Higher is better.'}`,
        svg: await renderSvg(heatmapSpec(result, ood, metric)),
      });
    }
  }
  const overall = result.ranking.overall;
  if (overall) {
    plots.push({
      id: 'critical-difference',
      title: 'Critical-difference plot (all layers × OOD sets)',
      caption: `Mean AUROC rank over ${overall.blocks} blocks (layer × OOD set) of the detectors every layer runs; Friedman p = ${overall.pValue?.toPrecision(3) ?? 'n/a'}. A bar joins detectors whose Holm-corrected pairwise p ≥ ${CD_ALPHA}.`,
      svg: await renderSvg(cdSpec(overall, 'Mean ranks, all layers')),
    });
  }
  for (const [layer, ranking] of Object.entries(result.ranking.perLayer)) {
    if (ranking.blocks < 2) continue;
    plots.push({
      id: `critical-difference-${plots.length}`,
      title: `Critical-difference plot: layer ${layer}`,
      caption: `Mean AUROC rank over the ${ranking.blocks} OOD sets of layer ${layer}; bars as above.`,
      svg: await renderSvg(cdSpec(ranking, `Mean ranks, layer ${layer}`)),
    });
  }
  plots.push({
    id: 'nc1-vs-fpr95',
    title: 'NC1 vs FPR95 across layers, per detector',
    caption: 'Each point a layer: its NC1 (train features, log axis) and the detector’s FPR95 averaged over the OOD sets.',
    svg: await renderSvg(nc1Spec(result)),
  });
  return plots;
}
