// `ncod metrics` as commander parses it; the work is in ../metrics.ts, loaded only when the command runs.
import { Option, type Command } from '../commander.js';

import type { MetricsCliOptions } from '../metrics.js';
import { collect, parseInteger, parseNumber } from '../parse.js';

const EXAMPLE = `
Examples:
  $ ncod metrics --features penultimate.npy --labels y.npy --weights fc_w.npy --bias fc_b.npy --ood-features ood.npy
  $ ncod metrics --features layers.npz --labels y.npy --ood-features ood_layers.npz --json

Features are N×d float32/float64 arrays; labels are N int32/int64/uint8 class ids.
A repeated --features (or one .npz with several arrays) gives one row per layer.`;

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Neural Collapse metrics (NC1–NC5) of saved features, one row per layer')
    .requiredOption('--features <file>', 'N×d features (.npy, repeatable), or one .npz with one array per layer', collect)
    .requiredOption('--labels <file>', 'N class labels (.npy)')
    .option('--weights <file>', 'classifier weights, C×d (.npy); single layer only')
    .option('--bias <file>', 'classifier bias, C (.npy); needs --weights')
    .option('--ood-features <file>', 'M×d OOD features for NC5: .npy for one layer, .npz with the same array names for several')
    .option('--num-classes <C>', 'number of classes (default: max label + 1)', parseInteger)
    .option('--weighted-global-mean', 'global mean weighted by class size instead of the mean of class means')
    .option('--rank-tolerance <x>', 'relative tolerance for the numerical rank (default max(d, C)·ε)', parseNumber)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'cuda', 'auto']).default('cpu'))
    .option('--json', 'print JSON: one object for one layer, an array for several')
    .addHelpText('after', EXAMPLE)
    .action(async (options: MetricsCliOptions) => (await import('../metrics.js')).runMetrics(options));
}
