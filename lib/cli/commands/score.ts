// `ncod score` as commander parses it; the work is in ../score.ts, loaded only when the command runs.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import { parseInteger, parseNumber } from '../parse.js';
import type { ScoreOptions } from '../score.js';

export const METHODS = ['msp', 'maxlogit', 'energy', 'gen', 'react', 'mahalanobis', 'relative-mahalanobis', 'knn', 'vim', 'residual', 'neco', 'fdbd', 'nci'] as const;
export type Method = (typeof METHODS)[number];

const EXAMPLE = `
Examples:
  $ ncod score --method energy --logits logits_test.npy --out energy.npy
  $ ncod score --method mahalanobis --fit-features train.npy --fit-labels y_train.npy --features test.npy --out maha.npy
  $ ncod score --method vim --fit-features train.npy --weights fc_w.npy --bias fc_b.npy --principal-dim 256 --features test.npy --out vim.npy

Inputs needed: msp, maxlogit, energy, gen: --logits, or --features with --weights [--bias];
react: --fit-features, --features, --weights [--bias]; mahalanobis, relative-mahalanobis: --fit-features,
--fit-labels, --features; knn: --fit-features, --features [--k]; vim, residual, neco: --fit-features,
--weights [--bias], --principal-dim, --features; fdbd, nci: --fit-features, --weights [--bias], --features.

${FORMATS_HELP}`;

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('OOD scores of a detector (higher = more in-distribution) as a float64 .npy')
    .addOption(new Option('--method <name>', 'detector').choices(METHODS).makeOptionMandatory())
    .option('--features <file>', 'N×d features to score')
    .option('--logits <file>', 'N×C logits to score (.npy), for msp, maxlogit, energy, gen')
    .option('--fit-features <file>', 'ID (training) features to fit the detector')
    .option('--fit-labels <file>', 'labels of the fit features')
    .option('--weights <file>', 'classifier weights, C×d')
    .option('--bias <file>', 'classifier bias, C')
    .option('--temperature <T>', 'energy / react temperature (default 1)', parseNumber)
    .option('--k <k>', 'knn: the neighbour whose similarity is the score (default 50)', parseInteger)
    .option('--principal-dim <D>', 'vim, residual, neco: principal subspace dimension', parseInteger)
    .option('--percentile <p>', 'react: clipping percentile of ID activations (default 90)', parseNumber)
    .option('--alpha <a>', 'nci: weight of the L1 norm (default 0)', parseNumber)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'cuda', 'auto']).default('cpu'))
    .requiredOption('--out <file>', 'where to write the scores (.npy, float64)')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', EXAMPLE)
    .action(async (options: ScoreOptions) => (await import('../score.js')).runScore(options));
}
