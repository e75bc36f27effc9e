// The detector hyperparameter flags, shared by `ncod score --method` and `ncod fit`, so that both spell and
// default them alike.
import { Option, type Command } from '../commander.js';

import type { Hyperparameters } from '../../ood/method-spec.js';
import { COVARIANCES, LOGIT_METHODS, METHODS } from '../../ood/method-names.js';
import { parseInteger, parseNumber } from '../parse.js';
import { backendOption } from './backend-option.js';

/** The flags are the hyperparameters of lib/ood/method-spec.ts, camel-cased by commander (--top-m → topM). */
export type HyperparameterFlags = Hyperparameters;

export const HYPERPARAMETERS = ['temperature', 'gamma', 'topM', 'k', 'principalDim', 'percentile', 'alpha', 'ridge', 'covariance'] as const satisfies readonly (keyof HyperparameterFlags)[];

/** What each method needs, for the help text. */
export const INPUTS_NEEDED = `${LOGIT_METHODS.join(', ')}: logits, or features with --weights [--bias];
react: fit features, --weights [--bias]; mahalanobis, relative-mahalanobis and their ++ (L2-normalised) variants:
fit features and labels [--covariance ridge|pinv];
knn: fit features [--k]; vim, residual, neco: fit features, --weights [--bias], --principal-dim;
fdbd, nci: fit features, --weights [--bias].`;

export function methodOption(): Option {
  return new Option('--method <name>', 'detector').choices(METHODS);
}

export function addHyperparameterOptions(command: Command): Command {
  return command
    .option('--temperature <T>', 'energy / entropy / react temperature (default 1)', parseNumber)
    .option('--gamma <g>', 'gen: γ (default 0.1)', parseNumber)
    .option('--top-m <M>', 'gen: the number of largest probabilities summed (default min(100, C))', parseInteger)
    .option('--k <k>', 'knn: the neighbour whose similarity is the score (default 50)', parseInteger)
    .option('--principal-dim <D>', 'vim, residual, neco: principal subspace dimension', parseInteger)
    .option('--percentile <p>', 'react: clipping percentile of ID activations (default 90)', parseNumber)
    .option('--alpha <a>', 'nci: weight of the L1 norm (default 0)', parseNumber)
    .option('--ridge <r>', 'the Mahalanobis variants: relative ridge (default 1e-6; not with --covariance pinv)', parseNumber)
    .addOption(
      new Option('--covariance <how>', "the Mahalanobis variants: invert the covariance with the relative ridge, or its pseudo-inverse (scipy's pinvh: eigenvalues <= d·2^-52·λ_max dropped) (default ridge)").choices(COVARIANCES),
    )
    .addOption(backendOption());
}
