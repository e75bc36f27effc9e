// `ncod bench ood` as commander parses it (a subcommand of `ncod bench`); the work is in ../bench-ood.ts.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { BenchOodCliOptions } from '../bench-ood.js';
import { parseInteger, parseIntegerList, parseWidths } from '../parse.js';
import { backendOption } from './backend-option.js';

const EXAMPLE = `
Examples:
  $ ncod bench ood --data spec.json
  $ ncod bench ood --data spec.json --bootstrap 200 --json > table.json
  $ ncod bench ood --protocol fashion --seeds 0,1,2 --report fashion.html

spec.json (paths relative to it; an OOD set may leave out layers; group defaults to far):
  {"labels": {"train": "y_train.npy", "test": "y_test.npy"},
   "layers": {"enc3": {"train": "a.npy", "test": "b.npy", "weights": "W.npy", "bias": "b.npy"}},
   "ood": {"fashion": {"group": "far", "layers": {"enc3": "c.npy"}}},
   "validation": {"layers": {"enc3": "v.npy"}}}   (optional: --sweep's OOD source)
Any features entry may be shards of one array: a glob ("train-*.npy") or a comma list ("a.npy,b.npy"). Features
stream in chunks (never read whole; only labels, heads and 8 bytes of score per row and detector are held); on a
terminal, progress goes to stderr.
Every detector a layer allows runs on it (with weights: all of them; without: the four Mahalanobis variants and knn),
fitted once on the layer's train features with the defaults shown in the output (knn k = min(50, N), vim,
residual, neco principalDim = ⌊d/2⌋, react percentile 90), and scores the ID test set and every OOD set.
--json prints {layers: [{name, dim, nc1, gnc2, unc3, head, detectors}], hyperparameters, cells: [{detector, layer, ood, group,
auroc, fpr95, fpr95_ood_positive, aupr_in, aupr_out, ci?}], averages: [{detector, layer, group (near|far|all),
auroc, fpr95, sets}], ranking: {perLayer: {layer: friedman}, overall: friedman}, nc1Correlation: [{detector, layers,
pearson, spearman}], seconds}; friedman = {methods, blocks, meanRanks, statistic, pValue, pairwise: [{a, b,
rankDifference, z, p, pHolm}]}, ranking by AUROC with blocks = OOD sets (× layers for overall). fpr95 is the
paper's convention (ID positive), fpr95_ood_positive OpenOOD's. seconds = {fit, score, evaluate, nc1, sweep, total}.
--sweep: a seeded 10 % of the ID train rows (--seed; every class keeps a fit row) is held out; each grid point
is fitted on the rest and scored on the held-out rows against the validation OOD source: the spec's optional
"validation": {"layers": {layer: file}} (every layer), or else the held-out rows with every feature column
permuted independently. Never a test OOD set. The highest validation AUROC wins (ties keep the default, listed
first); the detector is then refitted on all train rows with it. Grids: knn k ∈ {50, 1, 5, 10, 20, 100, 200}
(≤ N); react percentile ∈ {90, 80, 85, 95, 99}; vim/residual/neco principalDim ∈ {⌊d/2⌋, and ⅛, ¼, ¾, 0.9 of d}
(< d for vim/residual); gen γ ∈ {0.1, 0.01, 0.5, 1} × M ∈ {0 = every class, 5, 10} (M < C); nci α ∈ {0, 1e-4,
1e-3, 1e-2, 0.1}. JSON adds sweep = {validation ("spec" | "permuted-columns"), heldOutFraction, seed, criterion
("auroc"), choices: {"layer/detector": {chosen, default, grid: [{hyperparameters, auroc}]}}, defaultCells
(cells like the others, fitted with the defaults)}; hyperparameters then holds the chosen values. nc1, gnc2 (hyperspherical uniformity) and unc3 (uniform duality; null without a
C-row classifier) are the layer's train features' nc1, gnc2_hyperspherical_uniformity and unc3_uniform_duality
as ncod metrics defines them. Detector names are spelled as ncod score --method.
--protocol fashion|mnist instead of --data: the baseline and the NC-controlled model are trained per seed as
ncod bench paper trains them (--epochs, --layers, --quick alike), and every layer of both is a layer of the table,
named baseline.enc1 … nc_control.projector (with @seed appended when several --seeds run; the ranking's blocks are
then layer × OOD set × seed). The other five classes of the ID dataset are the near OOD set, the other dataset the
far one; the layer the classifier reads has its trained head (all detectors), the others run the head-free ones.

${FORMATS_HELP}`;

export function registerBenchOod(bench: Command): void {
  bench
    .command('ood')
    .description('every detector × every layer × every OOD set of your features, ranked, with NC1 per layer')
    .option('--data <spec.json>', 'the layers, labels and OOD sets (format below)')
    .addOption(new Option('--protocol <name>', "instead of --data: train bench paper's two models and rank every layer of both").choices(['fashion', 'mnist']))
    .option('--seeds <list>', '--protocol: seeds, one model pair each (default 0)', parseIntegerList)
    .option('--epochs <n>', '--protocol: training epochs per model (default 10; --quick: 2)', parseInteger)
    .option('--layers <widths>', '--protocol: encoder widths (default 512,512,512; --quick: 64,64)', parseWidths)
    .option('--quick', '--protocol: the small configuration of bench paper --quick (smoke tests)')
    .option('--detectors <list>', 'only these detectors (comma-separated, as ncod score --method spells them)')
    .option('--bootstrap <n>', 'bootstrap replicates per cell for 95 % intervals (default 0: none)', parseInteger)
    .option('--seed <n>', 'bootstrap and --sweep split seed (default 0)', parseInteger)
    .addOption(backendOption())
    .option('--sweep', 'choose knn k, react percentile, vim/residual/neco principalDim, gen γ and M, nci α on validation data (below)')
    .option('--report <file.html>', 'also write a self-contained HTML report: AUROC/FPR95 heatmaps per OOD set, critical-difference plots, NC1 vs FPR95')
    .option('--out <file>', 'also write the JSON result to this file')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: BenchOodCliOptions) => (await import('../bench-ood.js')).runBenchOod(options));
}
