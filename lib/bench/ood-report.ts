// The self-contained HTML report of `ncod bench ood --report`: per-layer collapse metrics, the sweep's choices,
// and static SVG plots (ood-report-plots.ts). No script and no network resource (a CSP forbids both).
import { writeFileAtomic } from '../data/tensor.js';
import { renderOodPlots } from './ood-report-plots.js';
import type { OodTableResult } from './ood-table.js';
import { escapeHtml, htmlPage } from './html-page.js';

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1200px;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1em 0}figcaption,.note{color:#555;font-size:.92em}
`;

const value = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x.toPrecision(4));
const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
const table = (id: string, head: string[], rows: string[][]) =>
  `<table id="${id}">\n<thead>${row(head.map(escapeHtml), 'th')}</thead>\n<tbody>\n${rows.map((r) => row(r.map(escapeHtml))).join('\n')}\n</tbody>\n</table>`;
const hyperText = (h: object) => Object.entries(h).map(([k, v]) => `${k}=${v}`).join(' ') || 'library defaults';

function layersTable(result: OodTableResult): string {
  return table(
    'layers',
    ['layer', 'd', 'NC1', 'GNC2', 'UNC3', 'detectors'],
    result.layers.map((l) => [l.name, String(l.dim), value(l.nc1), value(l.gnc2), value(l.unc3), String(l.detectors.length)]),
  );
}

function sweepTable(result: OodTableResult): string {
  const sweep = result.sweep;
  if (!sweep) return '<p class="note">Hyperparameters: the documented defaults (no --sweep).</p>';
  const source = sweep.validation === 'spec' ? "the spec's validation features" : 'the held-out rows with each feature column permuted';
  const rows = Object.entries(sweep.choices).map(([key, c]) => {
    const best = c.grid.find((g) => g.hyperparameters === c.chosen)?.auroc ?? NaN;
    return [key, hyperText(c.chosen), hyperText(c.default), value(best)];
  });
  return `<p class="note">Chosen by validation AUROC: ${sweep.heldOutFraction * 100} % of the ID train rows held out (seed ${sweep.seed}) against ${escapeHtml(source)}.</p>\n${table('sweep', ['layer/detector', 'chosen', 'default', 'validation AUROC'], rows)}`;
}

/** The report as one self-contained HTML document. */
export async function renderOodReport(result: OodTableResult, title = 'ncod bench ood'): Promise<string> {
  const plots = await renderOodPlots(result);
  const sets = [...new Set(result.cells.map((c) => c.ood))];
  const body = `<h1>${escapeHtml(title)}</h1>
<p class="note">${result.layers.length} layers × ${sets.length} OOD sets (${escapeHtml(sets.join(', '))}); ${result.cells.length} cells in ${result.seconds.total.toFixed(1)} s.</p>
<h2>Layers</h2>
${layersTable(result)}
<h2>Hyperparameters</h2>
${sweepTable(result)}
<h2>Plots</h2>
${plots.map((p) => `<figure id="${escapeHtml(p.id)}">\n<h3>${escapeHtml(p.title)}</h3>\n${p.svg}\n<figcaption>${escapeHtml(p.caption)}</figcaption>\n</figure>`).join('\n')}`;
  return htmlPage(title, CSS, body);
}

export async function writeOodReport(result: OodTableResult, path: string, title?: string): Promise<void> {
  await writeFileAtomic(path, [new TextEncoder().encode(await renderOodReport(result, title))]);
}
