// `ncod bench paper`: the paper's protocol (baseline vs NC control, layer by layer) with a summary in the paper's
// format, result.json and an HTML report in --out (options: commands/bench-paper.ts).
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import type { Claims, PaperResult, TransferRows } from '../bench/paper-types.js';
import { loadPaperData } from '../bench/paper-data.js';
import { NcodError } from '../errors.js';
import { runPaperBenchmark } from '../bench/paper.js';
import { writeReport } from '../bench/report.js';
import { printJson, table } from './output.js';

const pct = (x: number) => (100 * x).toFixed(1);
const pm = (r: PaperResult, key: string, scale = 100, digits = 1) => {
  const s = r.summary[key];
  return r.seeds.length > 1 ? `${(scale * s.mean).toFixed(digits)} ± ${(scale * s.std).toFixed(digits)}` : (scale * s.mean).toFixed(digits);
};

/** The paper's table: baseline vs ours, average FPR95, average transfer error, NC1 encoder / projector. */
export function summaryTable(r: PaperResult): string {
  return table(
    ['model', 'ID test acc %', 'avg FPR95 %', 'avg transfer error %', 'NC1 encoder / projector'],
    [
      ['baseline (encoder)', pm(r, 'baseline_id_test_acc'), pm(r, 'baseline_fpr95'), pm(r, 'baseline_transfer_error'), `${pm(r, 'baseline_nc1_encoder', 1, 3)} / —`],
      ['NC control (FPR: projector, transfer: encoder)', pm(r, 'nc_control_id_test_acc'), pm(r, 'nc_control_fpr95'), pm(r, 'nc_control_transfer_error'), `${pm(r, 'nc_control_nc1_encoder', 1, 3)} / ${pm(r, 'nc_control_nc1_projector', 1, 3)}`],
    ],
  );
}

/**
 * One line per claim: ✓ or ✗, then what was measured and what the paper expects, e.g.
 * `✗ (4a) across layers r(NC1, FPR95) = -0.80, expected > 0` (never an inequality that reads as false).
 */
export function claimLines(r: PaperResult): string {
  const s = r.summary;
  const c = r.claims;
  const lines: [keyof Claims, boolean, string][] = [
    ['projector_detects_better', c.projector_detects_better, `(1) mean FPR95: NC-control projector ${pct(s.nc_control_fpr95.mean)} %, baseline encoder ${pct(s.baseline_fpr95.mean)} %; expected the projector's lower`],
    ['encoder_transfers_better', c.encoder_transfers_better, `(2) mean transfer error: NC-control encoder ${pct(s.nc_control_transfer_error.mean)} %, baseline encoder ${pct(s.baseline_transfer_error.mean)} %; expected the NC encoder's lower`],
    ['projector_more_collapsed', c.projector_more_collapsed, `(3) NC-control NC1: projector ${s.nc_control_nc1_projector.mean.toFixed(3)}, encoder ${s.nc_control_nc1_encoder.mean.toFixed(3)}; expected the projector's lower`],
    // Claim (4) as its two parts, each measured on its own (a fresh result always has both).
    ['nc1_correlates_with_fpr95', c.nc1_correlates_with_fpr95!, `(4a) across layers r(NC1, FPR95) = ${s.nc1_vs_fpr95.mean.toFixed(2)}, expected > 0`],
    ['nc1_anticorrelates_with_transfer_error', c.nc1_anticorrelates_with_transfer_error!, `(4b) across layers r(NC1, transfer error) = ${s.nc1_vs_transfer_error.mean.toFixed(2)}, expected < 0`],
  ];
  const several = r.seeds.length > 1;
  return lines
    .map(([key, ok, text]) => {
      const seeds = several ? ` (holds in ${r.seeds.filter((seed) => seed.claims[key]).length} of ${r.seeds.length} seeds)` : '';
      return `${ok ? '✓' : '✗'} ${text}${seeds}`;
    })
    .join('\n');
}

/** Claim (2) per transfer-probe budget: the encoders' mean transfer accuracy (%) over OOD sets and seeds. */
export function transferBudgetLines(r: PaperResult): string {
  const t = r.transfer_budget;
  if (!t) return '';
  const several = r.seeds.length > 1;
  const acc = (x: { mean: number; std: number }) => (several ? `${pct(x.mean)} ± ${pct(x.std)}` : pct(x.mean));
  const rowsUsed = (rows: TransferRows, epochs: number) => {
    const cell = t.cells.find((c) => c.rows === rows && c.probe_epochs === epochs)!;
    return Object.values(cell.rows_used).join(' / ');
  };
  return table(
    ['transfer rows', 'rows used per OOD set', 'probe epochs', 'baseline encoder acc %', 'NC-control encoder acc %', 'claim (2)', ...(several ? ['seeds'] : [])],
    t.claims.map((c) => [
      String(c.rows), rowsUsed(c.rows, c.probe_epochs), String(c.probe_epochs), acc(c.baseline), acc(c.nc_control),
      c.encoder_transfers_better ? '✓' : '✗', ...(several ? [`${c.seeds_holding}/${c.seeds}`] : []),
    ]),
  );
}

export interface BenchPaperCliOptions {
  protocol: 'fashion' | 'mnist';
  data?: string;
  seeds: number[];
  epochs?: number;
  probeEpochs?: number[];
  transferRows?: TransferRows[];
  layers?: number[];
  backend: BackendName;
  out: string;
  quick?: boolean;
  json?: boolean;
}

export async function runBenchPaper(o: BenchPaperCliOptions): Promise<void> {
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: '{bar} {percentage}% {stage}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(100, 0, { stage: 'loading data' });
  let lastStage = '';
  // The output folder first: a folder that cannot be made or written fails now, not after the benchmark ran.
  await prepareOutputDir(o.out);
  const data = o.data ? await loadPaperData(o.data) : undefined;
  const result = await runPaperBenchmark({
    protocol: o.protocol, data, seeds: o.seeds, epochs: o.epochs, probeEpochs: o.probeEpochs?.[0], layers: o.layers,
    // A sweep when rows are listed or more than one epoch count is: the models are trained once, the probes re-fitted.
    transferBudget: o.transferRows || (o.probeEpochs?.length ?? 0) > 1 ? { rows: o.transferRows, probeEpochs: o.probeEpochs } : undefined,
    quick: o.quick, backend: o.backend,
    onProgress: (stage, fraction) => {
      if (bar) bar.update(Math.round(100 * fraction), { stage });
      else if (!o.json && stage !== lastStage) process.stderr.write(`${stage}\n`);
      lastStage = stage;
    },
  }).finally(() => bar?.stop());
  await fs.mkdir(o.out, { recursive: true });
  await fs.writeFile(path.join(o.out, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  await writeReport(result, path.join(o.out, 'report.html'));
  if (o.json) return printJson(result);
  console.log(`\n${result.config.id} vs ${result.config.ood_sets.join(', ')}; seeds ${result.config.seeds.join(', ')}\n`);
  console.log(summaryTable(result));
  if (result.transfer_budget) console.log(`\nTransfer accuracy of the encoders by the transfer probe's budget:\n${transferBudgetLines(result)}`);
  console.log(`\nThe paper's claims:\n${claimLines(result)}\n\nWrote ${path.join(o.out, 'result.json')} and ${path.join(o.out, 'report.html')}`);
}

async function prepareOutputDir(out: string): Promise<void> {
  try {
    await fs.mkdir(out, { recursive: true });
    await fs.access(out, fsConstants.W_OK);
  } catch (error) {
    const message = (error as Error).message;
    throw new NcodError('ERR_IO', `--out: expected a folder that can be created and written, got ${out} (${message})`, { cause: error });
  }
}
