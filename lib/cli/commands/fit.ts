// `ncod fit` as commander parses it; the work is in ../fit.ts, loaded only when the command runs.
import type { Command } from '../commander.js';

import type { FitCliOptions } from '../fit.js';
import { parseInteger, parseNumber } from '../parse.js';
import { addHyperparameterOptions, INPUTS_NEEDED, methodOption } from './detector-options.js';

const EXAMPLE = `
Examples:
  $ ncod fit --method mahalanobis --features train.npy --labels y_train.npy --calibrate val.npy --out maha.ncod
  $ ncod fit --method knn --k 50 --features train.npy --calibrate val.npy --tpr 0.95 --check val2.npy --out knn.ncod
  $ ncod fit --method energy --weights fc_w.npy --bias fc_b.npy --out energy.ncod
  $ ncod score --detector maha.ncod --features test.npy --out s.npy --is-ood flags.npy

The detector file holds the fitted state (bit-exact), the hyperparameters, the input it scores, the layer, a
SHA-256 of the fit data and, with --calibrate, the calibration: the conformal threshold for --tpr on held-out ID
data (a new ID sample is kept with probability ≥ tpr), whose p-values ncod score and ncod serve report. --check
reports the TPR achieved on a second held-out ID set with a 95 % bootstrap interval. Inputs needed:
${INPUTS_NEEDED}
Logit methods without --weights score logits; give their width with --num-classes.`;

export function registerFit(program: Command): void {
  const command = program
    .command('fit')
    .description('fit a detector (and calibrate its threshold) and save it to one file for ncod score and ncod serve')
    .addOption(methodOption().makeOptionMandatory())
    .option('--features <file>', 'ID (training) features to fit on (.npy)')
    .option('--labels <file>', 'labels of the fit features (.npy)')
    .option('--weights <file>', 'classifier weights, C×d (.npy)')
    .option('--bias <file>', 'classifier bias, C (.npy)')
    .option('--num-classes <C>', 'logit methods without --weights: the number of logits per row', parseInteger);
  addHyperparameterOptions(command)
    .option('--calibrate <file>', 'held-out ID features (or logits) to set the threshold on (.npy)')
    .option('--tpr <rate>', 'the true-positive rate the threshold keeps (default 0.95)', parseNumber)
    .option('--check <file>', 'a second held-out ID set: report the achieved TPR with a bootstrap interval (.npy)')
    .option('--layer <name>', 'the layer the features come from, recorded in the file')
    .requiredOption('--out <file>', 'the detector file to write (e.g. det.ncod)')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', EXAMPLE)
    .action(async (options: FitCliOptions) => (await import('../fit.js')).runFit(options));
}
