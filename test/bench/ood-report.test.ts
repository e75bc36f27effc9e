// The HTML report of `ncod bench ood --report`: self-contained, escaped, the critical-difference groups, and the
// page in real headless Chromium (Debian's /usr/bin/chromium through playwright-core) opened offline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { renderOodReport, writeOodReport } from '../../lib/bench/ood-report.js';
import { cdGroups } from '../../lib/bench/ood-report-plots.js';
import { memoryRows } from '../../lib/bench/ood-rows.js';
import type { OodBenchData } from '../../lib/bench/ood-spec.js';
import { runOodTable, type OodTableResult } from '../../lib/bench/ood-table.js';
import { openOffline, type OpenedPage } from '../helpers/headless-page.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const C = 3;

function benchData(): OodBenchData {
  const normal = gaussian(rng(5));
  const train = clusters(240, 8, C, 1);
  const test = clusters(120, 8, C, 2);
  const slice = (x: Float32Array, dim: number) => Float32Array.from({ length: (x.length / 8) * dim }, (_, i) => x[Math.floor(i / dim) * 8 + (i % dim)]);
  const head = { weights: Float32Array.from({ length: C * 8 }, () => normal()), bias: new Float32Array(C), numClasses: C };
  const near = clusters(90, 8, C, 3, { shift: 0.8 }).features;
  const far = Float32Array.from({ length: 80 * 8 }, () => 4 * normal());
  const layers = [
    { name: 'full', dim: 8, train: memoryRows(train.features, 8), test: memoryRows(test.features, 8), head },
    { name: 'half', dim: 4, train: memoryRows(slice(train.features, 4), 4), test: memoryRows(slice(test.features, 4), 4), head: undefined },
    { name: 'third', dim: 3, train: memoryRows(slice(train.features, 3), 3), test: memoryRows(slice(test.features, 3), 3), head: undefined },
  ];
  const setOf = (x: Float32Array) => new Map(layers.map((l) => [l.name, memoryRows(slice(x, l.dim), l.dim)] as const));
  return {
    trainLabels: train.labels,
    testLabels: test.labels,
    numClasses: C,
    layers,
    ood: [
      { name: 'near <b>&"set"', group: 'near', layers: setOf(near) },
      { name: 'far', group: 'far', layers: setOf(far) },
    ],
  };
}

let result: OodTableResult;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ncod-ood-report-'));
  result = await runOodTable(benchData(), { detectors: ['mahalanobis', 'knn', 'mahalanobis++', 'energy'], sweep: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cdGroups', () => {
  it('joins runs of detectors with no significant pairwise difference, in mean-rank order', () => {
    const pair = (a: string, b: string, pHolm: number) => ({ a, b, rankDifference: 0, z: 0, p: pHolm, pHolm });
    const ranking = {
      methods: ['a', 'b', 'c', 'd'],
      blocks: 10,
      meanRanks: [1.2, 2.1, 2.9, 3.8],
      statistic: 1,
      pValue: 0.01,
      pairwise: [pair('a', 'b', 0.4), pair('a', 'c', 0.01), pair('a', 'd', 0.001), pair('b', 'c', 0.3), pair('b', 'd', 0.02), pair('c', 'd', 0.2)],
    };
    expect(cdGroups(ranking).map((g) => g.members)).toEqual([['a', 'b'], ['b', 'c'], ['c', 'd']]);
    const all = { ...ranking, pairwise: ranking.pairwise.map((p) => ({ ...p, pHolm: 1 })) };
    expect(cdGroups(all)).toEqual([{ from: 1.2, to: 3.8, members: ['a', 'b', 'c', 'd'] }]);
  });
});

describe('renderOodReport', () => {
  it('is self-contained and escapes names', async () => {
    const html = await renderOodReport(result);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // url(#id) is the colour legends' in-document gradient; any other url( would be a resource to fetch.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    const ids = [...html.matchAll(/url\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(html, id).toContain(`id="${id}"`);
    expect(new Set(ids).size).toBe(ids.length); // distinct across the SVGs of one page
    expect(html).not.toContain('<b>&');
    expect(html).toContain('near &lt;b&gt;&amp;&quot;set&quot;');
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });
});

describe('the report in headless Chromium', () => {
  let opened: OpenedPage | undefined;
  let page: Page;

  beforeAll(async () => {
    const path = join(dir, 'report.html');
    await writeOodReport(result, path, 'bench ood test');
    opened = await openOffline(path);
    page = opened.page;
    expect(opened.ok).toBe(true);
  });
  afterAll(async () => {
    await opened?.browser.close();
  });

  it('opens from file:// with no console errors and no other request', async () => {
    expect(await page.title()).toBe('bench ood test');
    expect(opened!.problems).toEqual([]);
    expect(opened!.requests).toEqual([opened!.url]);
  });

  it('shows the heatmaps (AUROC and FPR95 per OOD set), the critical-difference plots and NC1 vs FPR95, each with marks', async () => {
    const figures = await page.$$eval('figure', (els) =>
      els.map((f) => {
        const svg = f.querySelector('svg')!;
        const box = svg.getBoundingClientRect();
        return { id: f.id, width: box.width, height: box.height, marks: svg.querySelectorAll('path, rect').length, text: svg.textContent ?? '' };
      }),
    );
    const ids = figures.map((f) => f.id);
    expect(ids.filter((id) => id.startsWith('heatmap-'))).toHaveLength(4);
    expect(ids).toContain('critical-difference');
    expect(ids).toContain('nc1-vs-fpr95');
    for (const f of figures) {
      expect(f.width, f.id).toBeGreaterThan(100);
      expect(f.height, f.id).toBeGreaterThan(50);
      expect(f.marks, f.id).toBeGreaterThan(3);
    }
    // The full layer's AUROC heatmap on far has one cell per detector it ran.
    const heat = figures.find((f) => f.id.startsWith('heatmap-auroc'))!;
    expect(heat.text).toContain('energy');
    const cd = figures.find((f) => f.id === 'critical-difference')!;
    for (const m of result.ranking.overall!.methods) expect(cd.text).toContain(m);
    expect(figures.find((f) => f.id === 'nc1-vs-fpr95')!.text).toContain('third');
  });

  it('has the layer table with NC1, GNC2, UNC3, and the sweep table', async () => {
    const layers = await page.$$eval('#layers tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(layers.map((r) => r[0])).toEqual(['full', 'half', 'third']);
    expect(layers[0][2]).toBe(result.layers[0].nc1!.toPrecision(4));
    expect(layers[0][4]).toBe(result.layers[0].unc3!.toPrecision(4));
    expect(layers[1][4]).toBe('—');
    const sweep = await page.$$eval('#sweep tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent));
    expect(sweep).toEqual(Object.keys(result.sweep!.choices));
  });
});
