// `ncod score` as commander parses it; the work is in ../score.ts, loaded only when the command runs.
import type { Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { ScoreOptions } from '../score.js';
import { LOGIT_METHODS } from '../../ood/method-names.js';
import { addHyperparameterOptions, INPUTS_NEEDED, methodOption } from './detector-options.js';

const EXAMPLE = `
Examples:
  $ ncod score --detector maha.ncod --features test.npy --out maha.npy
  $ ncod score --method energy --logits logits_test.npy --out energy.npy
  $ ncod score --method mahalanobis --fit-features train.npy --fit-labels y_train.npy --features test.npy --out maha.npy
  $ ncod score --method vim --fit-features train.npy --weights fc_w.npy --bias fc_b.npy --principal-dim 256 --features test.npy --out vim.npy

A saved detector (ncod fit) is given with --detector and scores --features (or --logits, for a logit detector saved
without a head); with a calibration, --p-values and --is-ood write the conformal p-values and the OOD flags.
With --method the detector is fitted here from the --fit-* files, exactly as ncod fit does. Inputs needed:
${INPUTS_NEEDED}

${FORMATS_HELP}`;

export function registerScore(program: Command): void {
  const command = program
    .command('score')
    .description('OOD scores of a detector (higher = more in-distribution) as a float64 .npy')
    .option('--detector <file>', 'a saved detector (ncod fit), instead of --method and the --fit-* files')
    .addOption(methodOption())
    .option('--features <file>', 'N×d features to score')
    .option('--logits <file>', `N×C logits to score, for ${LOGIT_METHODS.join(', ')}`)
    .option('--fit-features <file>', 'ID (training) features to fit the detector')
    .option('--fit-labels <file>', 'labels of the fit features')
    .option('--weights <file>', 'classifier weights, C×d')
    .option('--bias <file>', 'classifier bias, C');
  addHyperparameterOptions(command)
    .requiredOption('--out <file>', 'where to write the scores (.npy, float64)')
    .option('--p-values <file>', 'calibrated detectors: the conformal p-values (.npy, float64)')
    .option('--is-ood <file>', 'calibrated detectors: 1 where the score is below the threshold (.npy, uint8)')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', EXAMPLE)
    .action(async (options: ScoreOptions) => (await import('../score.js')).runScore(options));
}
