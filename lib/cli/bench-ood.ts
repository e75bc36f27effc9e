// `ncod bench ood`: loads the spec, runs the detector × layer × OOD table (lib/bench/ood-table.ts), prints it per
// layer (AUROC / FPR95 per OOD set, mean rank) with the ranking and NC1, or as JSON. Options: commands/bench-ood.ts.
import path from 'node:path';

import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import { loadOodSpec, type OodBenchData } from '../bench/ood-spec.js';
import { writeFileAtomic } from '../data/tensor.js';
import { runOodTable, type OodTableResult } from '../bench/ood-table.js';
import { describe, fail } from '../errors.js';
import { METHODS, type Method } from '../ood/method-names.js';
import type { ProtocolName } from '../bench/paper-types.js';
import { formatValue } from './arrays.js';
import { printJson, table } from './output.js';
import { checkOutputFolder } from './output-path.js';
import { rowProgress } from './row-progress.js';

export interface BenchOodCliOptions {
  data?: string;
  protocol?: ProtocolName;
  seeds?: number[];
  epochs?: number;
  layers?: number[];
  quick?: boolean;
  detectors?: string;
  bootstrap?: number;
  seed?: number;
  backend: BackendName;
  out?: string;
  json?: boolean;
  sweep?: boolean;
  report?: string;
}

function parseDetectors(text: string | undefined): Method[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(METHODS as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) fail('ERR_INVALID_ARGUMENT', '--detectors', `names among ${METHODS.join(', ')}`, describe(text));
  return names as Method[];
}

function printTable(result: OodTableResult): void {
  const sets = [...new Set(result.cells.map((c) => c.ood))];
  for (const layer of result.layers) {
    const ranking = result.ranking.perLayer[layer.name];
    const collapse = `NC1 = ${formatValue(layer.nc1)}, GNC2 = ${formatValue(layer.gnc2)}, UNC3 = ${formatValue(layer.unc3)}`;
    console.log(`\nlayer ${layer.name} (d = ${layer.dim}, ${collapse}): AUROC / FPR95 per OOD set`);
    const rows = layer.detectors.map((detector) => {
      const cells = sets.map((ood) => {
        const c = result.cells.find((x) => x.detector === detector && x.layer === layer.name && x.ood === ood);
        return c ? `${c.auroc.toFixed(3)} / ${c.fpr95.toFixed(3)}` : '—';
      });
      const r = ranking ? ranking.meanRanks[ranking.methods.indexOf(detector)] : undefined;
      return [detector, ...cells, r === undefined ? '—' : r.toFixed(2)];
    });
    rows.sort((a, b) => Number(a[a.length - 1]) - Number(b[b.length - 1]));
    console.log(table(['detector', ...sets, 'mean rank'], rows));
    if (ranking?.pValue !== null && ranking?.pValue !== undefined) console.log(`Friedman over ${ranking.blocks} OOD sets: χ² = ${ranking.statistic!.toFixed(2)}, p = ${ranking.pValue.toPrecision(3)}`);
  }
  const correlated = result.nc1Correlation.filter((c) => c.pearson !== null);
  if (correlated.length) {
    console.log('\nNC1 vs FPR95 across layers (Pearson / Spearman):');
    console.log(table(['detector', 'pearson', 'spearman'], correlated.map((c) => [c.detector, c.pearson!.toFixed(3), c.spearman?.toFixed(3) ?? '—'])));
  }
  if (result.sweep) printSweep(result);
  const s = result.seconds;
  console.log(`\n${s.total.toFixed(1)} s: fits ${s.fit.toFixed(1)} s, scoring ${s.score.toFixed(1)} s, evaluation ${s.evaluate.toFixed(1)} s, NC1 ${s.nc1.toFixed(1)} s${result.sweep ? `, sweep ${s.sweep.toFixed(1)} s` : ''}`);
}

const hyperText = (h: object) => Object.entries(h).map(([k, v]) => `${k}=${v}`).join(' ') || 'library defaults';

/** Chosen against default values per layer × detector, with the mean test AUROC / FPR95 of both. */
function printSweep(result: OodTableResult): void {
  const sweep = result.sweep!;
  const source = sweep.validation === 'spec' ? "the spec's validation features" : 'held-out ID rows with each column permuted';
  console.log(`\nSweep (validation AUROC: ${sweep.heldOutFraction * 100} % of ID train held out vs ${source}; seed ${sweep.seed}):`);
  const meanOf = (cells: OodTableResult['cells'], key: string, pick: 'auroc' | 'fpr95') => {
    const mine = cells.filter((c) => `${c.layer}/${c.detector}` === key);
    return (mine.reduce((a, c) => a + c[pick], 0) / mine.length).toFixed(3);
  };
  const rows = Object.entries(sweep.choices).map(([key, c]) => [
    key,
    hyperText(c.chosen),
    `${meanOf(result.cells, key, 'auroc')} / ${meanOf(result.cells, key, 'fpr95')}`,
    hyperText(c.default),
    `${meanOf(sweep.defaultCells, key, 'auroc')} / ${meanOf(sweep.defaultCells, key, 'fpr95')}`,
  ]);
  console.log(table(['layer/detector', 'chosen', 'AUROC / FPR95', 'default', 'AUROC / FPR95 (default)'], rows));
}

const PROTOCOL_ONLY = ['seeds', 'epochs', 'layers', 'quick'] as const;

/** The table's input: the --data spec, or the layers of bench paper's models trained on --protocol. */
async function benchData(o: BenchOodCliOptions): Promise<OodBenchData> {
  if ((o.data === undefined) === (o.protocol === undefined)) {
    fail('ERR_INVALID_ARGUMENT', '--data / --protocol', 'exactly one of them', o.data === undefined ? 'neither' : 'both');
  }
  if (o.data !== undefined) {
    const stray = PROTOCOL_ONLY.find((k) => o[k] !== undefined);
    if (stray) fail('ERR_INVALID_ARGUMENT', `--${stray}`, 'it only with --protocol', `--${stray} with --data`);
    return loadOodSpec(o.data);
  }
  const { protocolOodData } = await import('../bench/ood-protocol.js');
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: '{bar} {percentage}% {stage}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(100, 0, { stage: 'loading the protocol' });
  try {
    return await protocolOodData({
      protocol: o.protocol!, seeds: o.seeds, epochs: o.epochs, layers: o.layers, quick: o.quick, backend: o.backend,
      onProgress: (stage, fraction) => bar?.update(Math.round(100 * fraction), { stage }),
    });
  } finally {
    bar?.stop();
  }
}

export async function runBenchOod(o: BenchOodCliOptions): Promise<void> {
  if (o.out !== undefined) checkOutputFolder(o.out, '--out');
  if (o.report !== undefined) checkOutputFolder(o.report, '--report');
  const detectors = parseDetectors(o.detectors);
  const data = await benchData(o);
  // On a terminal only (stderr), so --json's stdout stays clean: detectors done, and the rows of the set being scored.
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} detectors | {stage}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  const rows = rowProgress('bench ood');
  let started = false;
  let result: OodTableResult;
  try {
    result = await runOodTable(data, {
      backend: o.backend,
      bootstrap: o.bootstrap,
      seed: o.seed,
      detectors,
      sweep: o.sweep,
      onProgress: (done, total, stage) => {
        if (!bar) return;
        // The sweep's grid points first, then the table's fits: each phase brings its own total.
        if (!started) bar.start(total, 0, { stage });
        started = true;
        bar.setTotal(total);
        bar.update(done, { stage });
      },
      onRows: (done, total, stage) => rows.update(done, total, stage),
    });
  } finally {
    rows.stop();
    bar?.stop();
  }
  if (o.out !== undefined) await writeFileAtomic(o.out, [new TextEncoder().encode(JSON.stringify(result, null, 2) + '\n')]);
  if (o.report !== undefined) await (await import('../bench/ood-report.js')).writeOodReport(result, o.report, `ncod bench ood: ${o.data !== undefined ? path.basename(o.data) : `--protocol ${o.protocol}`}`);
  if (o.json) printJson(result);
  else printTable(result);
}
