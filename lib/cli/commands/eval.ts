// `ncod eval` as commander parses it; the work is in ../eval.ts, loaded only when the command runs.
import type { Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { EvalCliOptions } from '../eval.js';
import { parseInteger, parseNumber } from '../parse.js';

const EXAMPLE = `
Example:
  $ ncod eval --id-scores msp_cifar10.npy --ood-scores msp_svhn.npy --bootstrap 1000 --seed 0

Scores are 1-D float arrays, higher = more in-distribution.

${FORMATS_HELP}`;

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('OOD detection metrics (AUROC, FPR@95, AUPR, AP, detection error) from detector scores')
    .requiredOption('--id-scores <file>', 'scores of in-distribution samples (1-D)')
    .requiredOption('--ood-scores <file>', 'scores of OOD samples (1-D)')
    .option('--tpr <x>', 'target TPR for fpr95 and fpr95_ood_positive', parseNumber, 0.95)
    .option('--bootstrap <n>', 'bootstrap samples for 95% percentile confidence intervals', parseInteger)
    .option('--seed <s>', 'bootstrap seed (default 0)', parseInteger)
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: EvalCliOptions) => (await import('../eval.js')).runEval(options));
}
