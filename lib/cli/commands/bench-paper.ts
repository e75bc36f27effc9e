// `ncod bench paper` as commander parses it; the work is in ../bench-paper.ts (training, plotting with Vega),
// loaded only when the command runs.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { BenchPaperCliOptions } from '../bench-paper.js';
import { parseInteger, parseIntegerList, parseWidths } from '../parse.js';
import { backendOption } from './backend-option.js';
import { registerBenchOod } from './bench-ood.js';

const EXAMPLE = `
Examples:
  $ ncod bench paper                                   # Fashion-MNIST 0–4 vs Fashion 5–9 and MNIST, one seed
  $ ncod bench paper --protocol mnist --seeds 0,1,2 --out results/mnist
  $ ncod bench paper --quick --json                    # a smoke test in seconds (numbers not meaningful)
  $ ncod bench paper --data my-sets.json               # your own feature sets, listed in a JSON file:
      {"id": {"name": "cifar10", "train": {"features": "x.npy", "labels": "y.npy"}, "test": {...}},
       "ood": [{"name": "svhn", "train": {...}, "test": {...}}]}   (paths relative to the JSON file)

${FORMATS_HELP}`;

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
    .option('--probe-epochs <n>', 'linear-probe epochs (default 30; --quick: 3)', parseInteger)
    .option('--layers <widths>', 'encoder widths (default 512,512,512)', parseWidths)
    .addOption(backendOption())
    .option('--out <dir>', 'folder for result.json and report.html', 'ncod-paper')
    .option('--quick', 'a small configuration for smoke tests')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: BenchPaperCliOptions) => (await import('../bench-paper.js')).runBenchPaper(options));
}
