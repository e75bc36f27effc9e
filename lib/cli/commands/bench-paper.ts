// `ncod bench paper` as commander parses it; the work is in ../bench-paper.ts (training, plotting with Vega),
// loaded only when the command runs.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { BenchPaperCliOptions } from '../bench-paper.js';
import type { TransferRows } from '../../bench/paper-types.js';
import { describe, fail } from '../../errors.js';
import { parseInteger, parseIntegerList, parseWidths } from '../parse.js';
import { backendOption } from './backend-option.js';
import { registerBenchOod } from './bench-ood.js';

const EXAMPLE = `
Examples:
  $ ncod bench paper                                   # Fashion-MNIST 0–4 vs Fashion 5–9 and MNIST, one seed
  $ ncod bench paper --protocol mnist --seeds 0,1,2 --out results/mnist
  $ ncod bench paper --quick --json                    # a smoke test in seconds (numbers not meaningful)
  $ ncod bench paper --seeds 0,1,2 --transfer-rows 2000,20000,all --probe-epochs 10,30
                                                       # claim (2) as a function of the transfer probe's budget
  $ ncod bench paper --data my-sets.json               # your own feature sets, listed in a JSON file:
      {"id": {"name": "cifar10", "train": {"features": "x.npy", "labels": "y.npy"}, "test": {...}},
       "ood": [{"name": "svhn", "train": {...}, "test": {...}}]}   (paths relative to the JSON file)

${FORMATS_HELP}`;

/** "2000,20000,all" → [2000, 20000, 'all'] (lib/bench/paper-budget.ts checks the API form). */
export function parseTransferRows(value: string): TransferRows[] {
  const rows = value.split(',').map((v) => (v.trim() === 'all' ? 'all' : Number(v.trim() || NaN)));
  if (rows.some((r) => r !== 'all' && !(Number.isSafeInteger(r) && r > 0))) {
    fail('ERR_INVALID_ARGUMENT', '--transfer-rows', "comma-separated positive integers or 'all'", describe(value));
  }
  return rows;
}

/** "10,30" → [10, 30]: positive integers. */
function parsePositiveList(value: string): number[] {
  const items = parseIntegerList(value);
  if (items.some((v) => v === 0)) fail('ERR_INVALID_ARGUMENT', '--probe-epochs', 'comma-separated positive integers', describe(value));
  return items;
}

export function registerBenchPaper(program: Command): void {
  const bench = program.command('bench').description('reproduce published protocols, and rank detectors on your features');
  registerBenchOod(bench);
  bench
    .command('paper')
    .description("the paper's protocol at small scale: baseline vs NC control, NC1, OOD detection and transfer per layer")
    .addOption(new Option('--protocol <name>', 'ID/OOD protocol').choices(['fashion', 'mnist']).default('fashion'))
    .option('--data <spec.json>', 'your own ID and OOD sets instead of a protocol (see lib/bench/paper-data.ts)')
    .option('--seeds <list>', 'seeds, e.g. 0,1,2 (mean ± std over seeds)', parseIntegerList, [0])
    .option('--epochs <n>', 'training epochs per model (default 10; --quick: 2)', parseInteger)
    .option('--probe-epochs <list>', 'linear-probe epochs (default 30; --quick: 3); a list such as 10,30 sweeps the encoders\' transfer probes, the first value is used for everything else', parsePositiveList)
    .option('--transfer-rows <list>', "rows of each OOD set's train split for the encoders' transfer probes, per-class balanced: e.g. 2000,20000,all (a sweep; default all)", parseTransferRows)
    .option('--layers <widths>', 'encoder widths (default 512,512,512)', parseWidths)
    .addOption(backendOption())
    .option('--out <dir>', 'folder for result.json and report.html', 'ncod-paper')
    .option('--quick', 'a small configuration for smoke tests')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: BenchPaperCliOptions) => (await import('../bench-paper.js')).runBenchPaper(options));
}
