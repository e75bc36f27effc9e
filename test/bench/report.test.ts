// The HTML report of `ncod bench paper`: escaping, atomic writing, and the rendered page in real headless
// Chromium (Debian's /usr/bin/chromium through playwright-core; no browser download).
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PaperResult } from '../../lib/bench/paper-types.js';
import { escapeHtml, renderReport, writeReport } from '../../lib/bench/report.js';
import { paperFixture } from './fixture.js';
import { openOffline } from '../helpers/headless-page.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ncod-report-'));
});
afterAll(async () => {
  if (process.env.NCOD_KEEP_REPORT) console.log(`report and screenshot kept in ${dir}`);
  else await rm(dir, { recursive: true, force: true });
});

const pm = (s: { mean: number; std: number }, f: (x: number) => string) => `${f(s.mean)} ± ${f(s.std)}`;
const pct = (x: number) => (100 * x).toFixed(1);

describe('renderReport', () => {
  it('escapes HTML special characters in names', async () => {
    const evil = '<script>alert("x")</script>';
    const html = await renderReport(paperFixture({ id: `id<b>&'"`, oodSets: [evil, 'a&b "near"'] }));
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('a&b');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('id&lt;b&gt;&amp;&#39;&quot;');
    expect(html).toContain('a&amp;b &quot;near&quot;');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('is self-contained: no script and no external resources', async () => {
    const html = await renderReport(paperFixture());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // The only http(s) strings are SVG/XML namespaces, which are names, not fetched resources.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });

  it('with one seed shows plain numbers; without histograms or a budget sweep leaves out their plots', async () => {
    const result = paperFixture({ seeds: [7], histograms: false, budget: false });
    const html = await renderReport(result);
    expect(html).not.toContain('±');
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).not.toContain('id="transfer-budget"');
    expect(html).toContain(`<td>${pct(result.summary.baseline_fpr95.mean)}</td>`);
    expect(html).toContain('Pearson R = ');
    expect(html).not.toContain('over 1 seeds');
  });

  it('a result written before claim (4) was split: 4a and 4b derived from the correlations', async () => {
    const full = paperFixture();
    const strip = ({ nc1_correlates_with_fpr95: _a, nc1_anticorrelates_with_transfer_error: _b, ...rest }: PaperResult['claims']) => rest as PaperResult['claims'];
    const old: PaperResult = { ...full, claims: strip(full.claims), seeds: full.seeds.map((s) => ({ ...s, claims: strip(s.claims) })) };
    const html = await renderReport(old);
    const row = (key: string) => html.match(new RegExp(`<tr data-claim="${key}"><td>[^<]*</td><td class="(yes|no)">`))?.[1];
    expect(row('nc1_correlates_with_fpr95')).toBe(full.correlation.nc1_vs_fpr95 > 0 ? 'yes' : 'no');
    expect(row('nc1_anticorrelates_with_transfer_error')).toBe(full.correlation.nc1_vs_transfer_error < 0 ? 'yes' : 'no');
  });

  it('computes summary numbers from the seeds when `summary` lacks them', async () => {
    const full = paperFixture();
    const html = await renderReport({ ...full, summary: {} });
    expect(html).toContain(pm(full.summary.nc_control_fpr95, pct));
    expect(html).toContain(pm(full.summary.baseline_transfer_error, pct));
  });
});

describe('writeReport', () => {
  it('writes the file atomically and leaves no temporary file', async () => {
    const sub = await mkdtemp(join(dir, 'write-'));
    const path = join(sub, 'report.html');
    await writeReport(paperFixture(), path);
    expect(await readdir(sub)).toEqual(['report.html']);
    expect(await readFile(path, 'utf8')).toBe(await renderReport(paperFixture()));
  });

  it('removes its temporary file when the rename fails', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const path = join(sub, 'report.html');
    await mkdir(path); // a non-empty folder cannot be replaced by a file
    await writeFile(join(path, 'keep'), '');
    await expect(writeReport(paperFixture(), path)).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(await readdir(sub)).toEqual(['report.html']);
  });
});

describe('the report in headless Chromium', () => {
  const result: PaperResult = paperFixture();
  let browser: Browser | undefined;
  let page: Page;
  let problems: string[] = [];
  let requests: string[] = [];
  let fileUrl: string;

  beforeAll(async () => {
    const path = join(dir, 'report.html');
    await writeReport(result, path);
    const opened = await openOffline(path);
    ({ browser, page, problems, requests, url: fileUrl } = opened);
    expect(opened.ok).toBe(true);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads from a file:// URL with no console errors, failed or extra requests', async () => {
    expect(page.url()).toBe(fileUrl);
    expect(await page.title()).toContain(result.config.id);
    expect(problems).toEqual([]);
    expect(requests).toEqual([fileUrl]);
  });

  it('shows five plots, each a visible SVG with marks; every seed in the scatter plots, labelled by layer', async () => {
    const svgs = await page.$$eval('svg', (els) =>
      els.map((svg) => {
        const box = svg.getBoundingClientRect();
        return { width: box.width, height: box.height, marks: svg.querySelectorAll('path, rect').length, text: svg.textContent ?? '' };
      }),
    );
    expect(svgs).toHaveLength(5);
    for (const svg of svgs) {
      expect(svg.width).toBeGreaterThan(100);
      expect(svg.height).toBeGreaterThan(100);
      expect(svg.marks).toBeGreaterThan(10);
    }
    // The title gives the mean ± std of the per-seed correlations, and says over how many seeds.
    const r = (key: 'nc1_vs_fpr95' | 'nc1_vs_transfer_error') => {
      const v = result.seeds.map((s) => s.correlation[key]);
      const m = v.reduce((a, b) => a + b, 0) / 3;
      const sd = Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
      return `Pearson R = ${m.toFixed(2)} ± ${sd.toFixed(2)} over 3 seeds`;
    };
    expect(svgs[0].text).toContain(r('nc1_vs_fpr95'));
    expect(svgs[1].text).toContain(r('nc1_vs_transfer_error'));
    expect(svgs[2].text).toContain('projector');
    expect(svgs[3].text).toContain("Rows of each OOD set's train split");
    expect(svgs[4].text).toContain(`NC control projector (seed ${result.config.seeds[0]})`);
    // Each scatter plot: every seed's point and the mean, per (run, layer, OOD set): (3 + 5 layers) × 2 sets × (3 + 1);
    // the means labelled with their layer, and one error bar each.
    const marks = await page.$$eval('svg', (els) =>
      els.slice(0, 2).map((s) => ({
        points: s.querySelectorAll('[aria-roledescription="point"]').length,
        labels: [...s.querySelectorAll('[aria-roledescription="text mark"]')].map((t) => t.textContent),
        rules: s.querySelectorAll('[aria-roledescription="rule mark"]').length,
      })),
    );
    for (const m of marks) {
      expect(m.points).toBe(16 * 4);
      expect(m.labels.filter((t) => t === 'projector')).toHaveLength(2);
      expect(m.labels.filter((t) => t === 'encoder')).toHaveLength(4);
      expect(m.rules).toBe(16);
    }
  });

  it('has the claims table with ✓/✗ and the numbers behind them', async () => {
    const rows = await page.$$eval('#claims tbody tr', (trs) =>
      trs.map((tr) => ({ claim: tr.getAttribute('data-claim'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })),
    );
    // Claim (4) as its two parts, each with its own ✓/✗.
    expect(rows.map((r) => r.claim)).toEqual([
      'projector_detects_better', 'encoder_transfers_better', 'projector_more_collapsed', 'nc1_correlates_with_fpr95', 'nc1_anticorrelates_with_transfer_error',
    ]);
    for (const row of rows) {
      const key = row.claim as keyof PaperResult['claims'];
      expect(row.cells[1]).toBe(result.claims[key] ? '✓' : '✗');
      expect(row.cells[2]).toBe(`${result.seeds.filter((s) => s.claims[key]).length}/3`);
    }
    const s = result.summary;
    expect(rows[0].cells[3]).toContain(`FPR95 ${pm(s.nc_control_fpr95, pct)} % (NC projector) vs ${pm(s.baseline_fpr95, pct)} %`);
    expect(rows[1].cells[3]).toContain(`${pm(s.nc_control_transfer_error, pct)} % (NC encoder) vs ${pm(s.baseline_transfer_error, pct)} %`);
    expect(rows[3].cells[3]).toBe(`R = ${pm(s.nc1_vs_fpr95, (x) => x.toFixed(2))}, expected > 0 (paper: 0.77)`);
    expect(rows[4].cells[3]).toBe(`R = ${pm(s.nc1_vs_transfer_error, (x) => x.toFixed(2))}, expected < 0 (paper: −0.60)`);
  });

  it('has the summary table in the paper format: mean ± std over seeds', async () => {
    const cells = await page.$$eval('#summary tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const s = result.summary;
    const nc1 = (x: number) => Number(x.toPrecision(3)).toString();
    expect(cells).toEqual([
      ['Baseline', pm(s.baseline_fpr95, pct), pm(s.baseline_transfer_error, pct), pm(s.baseline_nc1_encoder, nc1), '—', pm(s.baseline_id_test_acc, pct)],
      ['NC control', pm(s.nc_control_fpr95, pct), pm(s.nc_control_transfer_error, pct), pm(s.nc_control_nc1_encoder, nc1), pm(s.nc_control_nc1_projector, nc1), pm(s.nc_control_id_test_acc, pct)],
    ]);
  });

  it('has the transfer-budget table: claim (2) per (rows, probe epochs), mean ± std over seeds', async () => {
    const rows = await page.$$eval('#transfer-budget tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const t = result.transfer_budget!;
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['2000', 'fashion_5_9: 2000, mnist: 2000', '10'], ['2000', 'fashion_5_9: 2000, mnist: 2000', '30'],
      ['all', 'fashion_5_9: 30000, mnist: 60000', '10'], ['all', 'fashion_5_9: 30000, mnist: 60000', '30'],
    ]);
    // The fixture: the NC encoder transfers better with 2000 rows (every seed) and worse with all (only seed 0 better).
    expect(rows.map((r) => r.slice(5))).toEqual([['✓', '3/3'], ['✓', '3/3'], ['✗', '1/3'], ['✗', '1/3']]);
    expect(rows[0][3]).toBe(pm(t.claims[0].baseline, pct));
    expect(rows[0][3]).toBe('43.0 ± 1.5');
    expect(rows[2][4]).toBe('73.0 ± 1.5');
  });

  it('has per-layer tables for both runs: mean ± std over seeds', async () => {
    const layers = (id: string) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const base = await layers('layers-baseline');
    const nc = await layers('layers-nc_control');
    expect(base.map((r) => r[0])).toEqual(['enc1', 'enc2', 'encoder']);
    expect(nc.map((r) => r[0])).toEqual(['enc1', 'enc2', 'encoder', 'proj1', 'projector']);
    const [near, far] = result.config.ood_sets;
    const over = (value: (p: PaperResult['runs']['nc_control']['layers'][string]) => number) => {
      const v = result.seeds.map((s) => value(s.runs.nc_control.layers.projector));
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return pm({ mean: m, std: Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) }, pct);
    };
    expect(nc[4].slice(2)).toEqual([
      over((p) => p.fpr95[near]), over((p) => p.fpr95[far]), over((p) => p.auroc[near]), over((p) => p.auroc[far]),
      over((p) => p.transfer_acc[near]), over((p) => p.transfer_acc[far]),
    ]);
    // The seeds differ, so a std of 0 would mean the table showed one seed only.
    expect(nc[4][2]).not.toMatch(/± 0\.0$/);
  });

  it('takes a full-page screenshot', async () => {
    const png = join(dir, 'report.png');
    await page.screenshot({ path: png, fullPage: true });
    const bytes = await readFile(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect((await stat(png)).size).toBeGreaterThan(50_000);
  });
});
