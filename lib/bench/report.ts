// One self-contained HTML report of `ncod bench paper`: config and claims, the paper's summary table,
// per-layer tables and static SVG plots (report-plots.ts). No script, no network resources.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

import type { Claims, LayerResult, PaperResult, SeedResult } from './paper-types.js';
import { escapeHtml, htmlPage } from './html-page.js';
import { layerOrder, meanOf, meanStd, RUN_LABELS, renderPlots, seedsOf } from './report-plots.js';

export { escapeHtml };


/** A fraction as a percentage with one decimal. */
export const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
/** NC1 and other positive quantities of any scale: three significant digits, no exponent below 1000. */
export const num = (x: number): string => {
  if (!Number.isFinite(x)) return 'n/a';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 0.001 || x === 0 ? Number(x.toPrecision(3)).toString() : x.toExponential(2);
};
export const corr = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** The per-seed numbers behind `summary`, by key (as `ncod bench paper` names them); used when a key is missing. */
const SUMMARY_FROM_SEED: Record<string, (s: SeedResult) => number> = {
  baseline_fpr95: (s) => meanOf(s.runs.baseline.layers.encoder.fpr95),
  nc_control_fpr95: (s) => meanOf(s.runs.nc_control.layers.projector.fpr95),
  baseline_transfer_error: (s) => 1 - meanOf(s.runs.baseline.layers.encoder.transfer_acc),
  nc_control_transfer_error: (s) => 1 - meanOf(s.runs.nc_control.layers.encoder.transfer_acc),
  baseline_nc1_encoder: (s) => s.runs.baseline.layers.encoder.nc1,
  nc_control_nc1_encoder: (s) => s.runs.nc_control.layers.encoder.nc1,
  nc_control_nc1_projector: (s) => s.runs.nc_control.layers.projector.nc1,
  baseline_id_test_acc: (s) => s.runs.baseline.id_test_acc,
  nc_control_id_test_acc: (s) => s.runs.nc_control.id_test_acc,
  nc1_vs_fpr95: (s) => s.correlation.nc1_vs_fpr95,
  nc1_vs_transfer_error: (s) => s.correlation.nc1_vs_transfer_error,
};
export const SUMMARY_KEYS = Object.keys(SUMMARY_FROM_SEED);

/** Mean and std over seeds of a summary number: from `summary`, else computed from the seeds (sample std). */
export function summaryStat(result: PaperResult, key: string): { mean: number; std: number } {
  const stored = result.summary?.[key];
  if (stored) return stored;
  const seeds = result.seeds.length > 0 ? result.seeds : [{ seed: 0, runs: result.runs, correlation: result.correlation, claims: result.claims }];
  return meanStd(seeds.map(SUMMARY_FROM_SEED[key]));
}

/** The claims the report lists: claim (4) as its two parts, each measured on its own. */
type ReportedClaim = Exclude<keyof Claims, 'nc1_correlations_as_paper'>;

/** Whether a claim holds; results written before claim (4) was split derive 4a and 4b from the correlations. */
function holds(claims: Claims, correlation: PaperResult['correlation'], key: ReportedClaim): boolean {
  if (key === 'nc1_correlates_with_fpr95') return claims[key] ?? correlation.nc1_vs_fpr95 > 0;
  if (key === 'nc1_anticorrelates_with_transfer_error') return claims[key] ?? correlation.nc1_vs_transfer_error < 0;
  return claims[key];
}

const CLAIMS: { key: ReportedClaim; text: string; evidence: (stat: (key: string, f: (x: number) => string) => string) => string }[] = [
  {
    key: 'projector_detects_better',
    text: 'The NC-controlled projector detects OOD better than the baseline encoder (lower mean FPR95)',
    evidence: (s) => `FPR95 ${s('nc_control_fpr95', pct)} % (NC projector) vs ${s('baseline_fpr95', pct)} % (baseline encoder)`,
  },
  {
    key: 'encoder_transfers_better',
    text: 'The NC-controlled encoder transfers better than the baseline encoder (lower mean transfer error)',
    evidence: (s) => `transfer error ${s('nc_control_transfer_error', pct)} % (NC encoder) vs ${s('baseline_transfer_error', pct)} % (baseline encoder)`,
  },
  {
    key: 'projector_more_collapsed',
    text: 'The NC-controlled projector is more collapsed than its encoder (lower NC1)',
    evidence: (s) => `NC1 ${s('nc_control_nc1_projector', num)} (projector) vs ${s('nc_control_nc1_encoder', num)} (encoder)`,
  },
  {
    key: 'nc1_correlates_with_fpr95',
    text: '(4a) Across layers, NC1 correlates positively with FPR95',
    evidence: (s) => `R = ${s('nc1_vs_fpr95', corr)}, expected > 0 (paper: 0.77)`,
  },
  {
    key: 'nc1_anticorrelates_with_transfer_error',
    text: '(4b) Across layers, NC1 correlates negatively with transfer error',
    evidence: (s) => `R = ${s('nc1_vs_transfer_error', corr)}, expected < 0 (paper: −0.60)`,
  },
];

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1200px;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
#claims td,#claims th{text-align:left}#claims td:nth-child(2),#claims td:nth-child(3){text-align:center}
.yes{color:#1a7f37;font-weight:bold}.no{color:#c62828;font-weight:bold}
.note{color:#666;font-size:.9em}figure{display:inline-block;vertical-align:top;margin:0 2em 1em 0}figcaption{color:#555;font-size:.9em;max-width:36em}
svg{max-width:100%;height:auto}dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{font-weight:bold}dd{margin:0}
`;

/** A table from a header row and body rows of already-escaped cell HTML. */
function table(id: string, head: string, rows: string[]): string {
  return `<table id="${id}">\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}
const tr = (cells: string[], attrs = '') => `<tr${attrs}>${cells.join('')}</tr>`;
const td = (html: string) => `<td>${html}</td>`;
const th = (html: string, span = 1, rowspan = 1) =>
  `<th${span > 1 ? ` colspan="${span}"` : ''}${rowspan > 1 ? ` rowspan="${rowspan}"` : ''}>${html}</th>`;

function header(result: PaperResult): string {
  const c = result.config;
  const items: [string, string][] = [
    ['Protocol', String(c.protocol)],
    ['ID set', c.id],
    ['OOD sets', c.ood_sets.join(', ')],
    ['Seeds', c.seeds.join(', ')],
    ['Epochs', `${c.epochs} (probes: ${c.probe_epochs})`],
    ['Encoder widths', c.layers.join(' → ')],
    ['Backend', c.backend + (c.quick ? ' (quick configuration)' : '')],
    ...(c.environment ? [['CPU', c.environment.cpu], ['SIMD level', c.environment.simd], ['BLAS', c.environment.blas]] as [string, string][] : []),
    ['Date', c.date],
  ];
  return `<dl id="config">\n${items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`;
}

function claimsTable(result: PaperResult): string {
  const several = result.seeds.length > 1;
  const stat = (key: string, f: (x: number) => string) => {
    const s = summaryStat(result, key);
    return several ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean);
  };
  const rows = CLAIMS.map(({ key, text, evidence }) => {
    const ok = holds(result.claims, result.correlation, key);
    const perSeed = several ? [td(`${result.seeds.filter((s) => holds(s.claims, s.correlation, key)).length}/${result.seeds.length}`)] : [];
    return tr(
      [
        td(escapeHtml(text)),
        `<td class="${ok ? 'yes' : 'no'}">${ok ? '✓' : '✗'}</td>`,
        ...perSeed,
        td(escapeHtml(evidence(stat))),
      ],
      ` data-claim="${key}"`,
    );
  });
  const head = tr([th('Claim'), th('Holds'), ...(several ? [th('Seeds')] : []), th(several ? 'Numbers (mean ± std over seeds)' : 'Numbers')]);
  return table('claims', head, rows);
}

function summaryTable(result: PaperResult): string {
  const several = result.seeds.length > 1;
  const cell = (key: string | undefined, f: (x: number) => string) => {
    if (!key) return td('—');
    const s = summaryStat(result, key);
    return td(escapeHtml(several ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean)));
  };
  const head = tr([th('Run'), th('FPR95 (%) ↓'), th('Transfer error (%) ↓'), th('NC1 encoder'), th('NC1 projector'), th('ID test accuracy (%)')]);
  const rows = [
    tr([td(RUN_LABELS.baseline), cell('baseline_fpr95', pct), cell('baseline_transfer_error', pct), cell('baseline_nc1_encoder', num), cell(undefined, num), cell('baseline_id_test_acc', pct)], ' data-run="baseline"'),
    tr([td(RUN_LABELS.nc_control), cell('nc_control_fpr95', pct), cell('nc_control_transfer_error', pct), cell('nc_control_nc1_encoder', num), cell('nc_control_nc1_projector', num), cell('nc_control_id_test_acc', pct)], ' data-run="nc_control"'),
  ];
  return table('summary', head, rows);
}

function layerTable(result: PaperResult, key: keyof typeof RUN_LABELS): string {
  const sets = result.config.ood_sets;
  const n = sets.length;
  const setHeads = sets.map((s) => th(escapeHtml(s))).join('');
  const head = `${tr([th('Layer', 1, 2), th('NC1', 1, 2), th('FPR95 (%)', n), th('AUROC (%)', n), th('Transfer accuracy (%)', n)])}\n<tr>${setHeads.repeat(3)}</tr>`;
  const seeds = seedsOf(result);
  const several = seeds.length > 1;
  const rows = layerOrder(result)
    .filter((name) => result.runs[key].layers[name])
    .map((name) => {
      const layers: LayerResult[] = seeds.map((s) => s.runs[key].layers[name]).filter(Boolean);
      // Mean ± std over seeds (plain with one seed).
      const cell = (value: (r: LayerResult) => number, f: (x: number) => string) => {
        const s = meanStd(layers.map(value));
        return td(several ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean));
      };
      const perSet = (field: 'fpr95' | 'auroc' | 'transfer_acc') => sets.map((set) => cell((r) => r[field][set], pct));
      return tr([td(escapeHtml(name)), cell((r) => r.nc1, num), ...perSet('fpr95'), ...perSet('auroc'), ...perSet('transfer_acc')]);
    });
  return table(`layers-${key}`, head, rows);
}

/** Claim (2) per transfer-probe budget: the encoders' mean transfer accuracy over OOD sets (and seeds). */
function transferBudgetTable(result: PaperResult): string {
  const t = result.transfer_budget;
  if (!t) return '';
  const several = result.seeds.length > 1;
  const acc = (x: { mean: number; std: number }) => td(several ? `${pct(x.mean)} ± ${pct(x.std)}` : pct(x.mean));
  const head = tr([
    th('Rows per OOD set'), th('Rows used'), th('Probe epochs'), th(`${RUN_LABELS.baseline} encoder (%)`), th(`${RUN_LABELS.nc_control} encoder (%)`),
    th('Claim (2)'), ...(several ? [th('Seeds')] : []),
  ]);
  const rows = t.claims.map((c) => {
    const used = t.cells.find((x) => x.rows === c.rows && x.probe_epochs === c.probe_epochs)?.rows_used ?? {};
    return tr(
      [
        td(escapeHtml(c.rows)), td(escapeHtml(result.config.ood_sets.map((set) => `${set}: ${used[set]}`).join(', '))), td(String(c.probe_epochs)),
        acc(c.baseline), acc(c.nc_control),
        `<td class="${c.encoder_transfers_better ? 'yes' : 'no'}">${c.encoder_transfers_better ? '✓' : '✗'}</td>`,
        ...(several ? [td(`${c.seeds_holding}/${c.seeds}`)] : []),
      ],
      ` data-rows="${escapeHtml(c.rows)}" data-epochs="${c.probe_epochs}"`,
    );
  });
  return `<h2>Transfer budget</h2>
<p class="note">Claim (2) depends on how much data the transfer probe gets. The models are trained once per seed; the encoders' transfer probes are re-fitted on per-class balanced subsets of each OOD set's train split.</p>
${table('transfer-budget', head, rows)}`;
}

/** The report as one self-contained HTML document. */
export async function renderReport(result: PaperResult): Promise<string> {
  const several = result.seeds.length > 1;
  const plots = await renderPlots(result);
  const first = result.config.seeds[0];
  const runInfo = (key: keyof typeof RUN_LABELS) => {
    const [acc, secs] = [meanStd(seedsOf(result).map((s) => s.runs[key].id_test_acc)), meanStd(seedsOf(result).map((s) => s.runs[key].train_seconds))];
    return several
      ? `ID test accuracy ${pct(acc.mean)} ± ${pct(acc.std)} %, training ${secs.mean.toFixed(1)} ± ${secs.std.toFixed(1)} s`
      : `ID test accuracy ${pct(acc.mean)} %, training ${secs.mean.toFixed(1)} s`;
  };
  const title = `NC control for OOD detection: ${result.config.id} vs ${result.config.ood_sets.join(', ')}`;
  return htmlPage(title, CSS, `<header>
<h1>${escapeHtml(title)}</h1>
<p class="note">Baseline (classifier on the encoder) vs NC control (entropy-regularised encoder and a fixed simplex-ETF projector), after Harun, Gallardo and Kanan, ICML 2025.</p>
${header(result)}
<h2>Claims</h2>
${claimsTable(result)}
</header>
<main>
<h2>Summary</h2>
${summaryTable(result)}
<p class="note">FPR95: mean over OOD sets, of the baseline's encoder and of the NC model's projector. Transfer error: 100 − the mean accuracy over OOD sets of a linear probe on each model's encoder.
${several ? `Mean ± std over ${result.seeds.length} seeds.` : `One seed (${escapeHtml(first)}).`} Paper (VGG17, ImageNet-100): FPR95 94.9 → 65.1, transfer error 49.5 → 41.9, NC1 encoder / projector 2.2 / 0.4.</p>
${transferBudgetTable(result)}
<h2>Per layer${several ? ` (mean ± std over ${result.seeds.length} seeds)` : ''}</h2>
<h3>${RUN_LABELS.baseline}</h3>
<p class="note">${escapeHtml(runInfo('baseline'))}</p>
${layerTable(result, 'baseline')}
<h3>${RUN_LABELS.nc_control}</h3>
<p class="note">${escapeHtml(runInfo('nc_control'))}</p>
${layerTable(result, 'nc_control')}
<h2>Plots</h2>
${plots.map((p) => `<figure id="${p.id}">\n<h3>${escapeHtml(p.title)}</h3>\n${p.svg}\n<figcaption>${escapeHtml(p.caption)}</figcaption>\n</figure>`).join('\n')}
</main>`);
}

/** Writes the report atomically: to a temporary file next to `path`, then renamed over it. */
export async function writeReport(result: PaperResult, path: string): Promise<void> {
  const html = await renderReport(result);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
