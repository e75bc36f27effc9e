// `ncod merge` as commander parses it; the work is in ../merge.ts, loaded only when the command runs.
import type { Command } from '../commander.js';

import type { MergeCliOptions } from '../merge.js';
import { parseNumber } from '../parse.js';
import { backendOption } from './backend-option.js';

const EXAMPLE = `
Examples:
  $ ncod merge part0.ncstate part1.ncstate part2.ncstate --weights fc_w.npy --bias fc_b.npy
  $ ncod merge shards/*.ncstate --json --save-state all.ncstate

State files come from NcAccumulator.save() in Node or from scripts/python/ncstate.py (NumPy only: a PyTorch
rank writes its shard's state without Node). Their layout and checksum: docs/ncstate.md.
Merging is exact: the metrics equal those of one pass over all the shards' data, except nc4_ncc_agreement,
which needs every sample against the final class means and is therefore null (— in the table) from states.
States of different dims or class counts are refused (ERR_SHAPE), a file named twice (its samples would count
twice) is ERR_INVALID_ARGUMENT, a damaged file ERR_FILE_FORMAT.`;

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('Merge NC state files (.ncstate shards) exactly and print their NC metrics (all but nc4_ncc_agreement)')
    .argument('<states...>', 'state files, all with the same dim and class count')
    .option('--weights <file>', 'classifier weights, C×d (for NC2–NC3)')
    .option('--bias <file>', 'classifier bias, C; needs --weights')
    .option('--weighted-global-mean', 'global mean weighted by class size instead of the mean of class means')
    .option('--rank-tolerance <x>', 'relative tolerance for the numerical rank (default max(d, C)·ε)', parseNumber)
    .addOption(backendOption())
    .option('--save-state <file>', 'also write the merged state (atomically), itself mergeable')
    .option('--json', 'print the metrics as one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (states: string[], options: MergeCliOptions) => (await import('../merge.js')).runMerge(states, options));
}
