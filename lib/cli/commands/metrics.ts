// `ncod metrics` as commander parses it; the work is in ../metrics.ts, loaded only when the command runs.
import type { Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { MetricsCliOptions } from '../metrics.js';
import { collect, parseInteger, parseNumber } from '../parse.js';
import { backendOption } from './backend-option.js';

const EXAMPLE = `
Examples:
  $ ncod metrics --features penultimate.npy --labels y.npy --weights fc_w.npy --bias fc_b.npy --ood-features ood.npy
  $ ncod metrics --features layers.npz --labels y.npy --ood-features ood_layers.npz --json

  $ ncod metrics --features feats.safetensors:layer4 --labels y.pt
  $ ncod metrics --features 'rank*/feats.npy' --labels 'rank*/labels.npy'
  $ ncod metrics --features shard3.npy --labels y3.npy --num-classes 1000 --save-state s3.ncstate --state-only
  $ ncod merge s*.ncstate --weights fc_w.npy

Features are N×d float arrays; labels are N integer class ids.
Metrics (columns in this order; null/— where an input is missing): nc1 (Tr(Σ_W Σ_B⁺)/C), nc1_quotient,
nc1_cdnv, nc2_* (equinorm, equiangularity, ETF error of the means; with --weights of the weights),
gnc2_hyperspherical_uniformity, nc3_* (--weights), unc3_uniform_duality (--weights), nc4_* (--weights),
nc5_ood_orthogonality (--ood-features). GNC2 and UNC3 are Wu & Papyan's (Linguistic Collapse, NeurIPS 2024; as
in rhubarbwu/neural-collapse): gnc2 = the population standard deviation, over class pairs i < j, of the
logarithmic inverse-distance kernel log(1/‖û_i − û_j‖) with û_c = (μ_c − μ_G)/‖μ_c − μ_G‖ (the variation, not
the mean: it is 0 at a simplex ETF; null when two û coincide); unc3 = std/|mean| (sample std) over classes of
cos(w_c, μ_c − μ_G). Both tend to 0 under collapse.
A repeated --features (or one file with several arrays, e.g. a .npz or file.pt:layers) gives one row per layer.
Shards: a quoted glob ('feats/part-*.npy', natural order) or a comma list (a.npy,b.npy) is one dataset; labels
may be sharded too, with their own shard sizes. Files are streamed in chunks of rows (memory does not grow
with N): one pass per layer, plus a second pass for nc4_ncc_agreement when --weights is given.

${FORMATS_HELP}`;

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Neural Collapse metrics (NC1–NC5) of saved features, one row per layer')
    .requiredOption('--features <file>', 'N×d features (repeatable), or one file with one array per layer', collect)
    .requiredOption('--labels <file>', 'N class labels')
    .option('--weights <file>', 'classifier weights, C×d; single layer only')
    .option('--bias <file>', 'classifier bias, C; needs --weights')
    .option('--ood-features <file>', 'M×d OOD features for NC5: one array for one layer, a file with the same array names for several')
    .option('--num-classes <C>', 'number of classes (default: max label + 1)', parseInteger)
    .option('--weighted-global-mean', 'global mean weighted by class size instead of the mean of class means')
    .option('--rank-tolerance <x>', 'relative tolerance for the numerical rank (default max(d, C)·ε)', parseNumber)
    .option('--save-state <file>', 'also write the accumulated state (.ncstate) for `ncod merge`; {layer} in the name for several layers')
    .option('--state-only', 'only write the --save-state file, no metrics: for a shard, which may miss classes')
    .addOption(backendOption())
    .option('--json', 'print JSON: one object for one layer, an array for several')
    .addHelpText('after', EXAMPLE)
    .action(async (options: MetricsCliOptions) => (await import('../metrics.js')).runMetrics(options));
}
