// `ncod features` as commander parses it; the work is in ../features.ts, loaded only when the command runs.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import type { FeaturesCliOptions } from '../features.js';
import { backendOption } from './backend-option.js';

const EXAMPLE = `
Examples:
  $ ncod features --model mnist04.safetensors --dataset mnist --split train --classes 0-4 --layer projector --out z_train.npy --labels-out y_train.npy
  $ ncod features --model mnist04.safetensors --dataset fashion --layer encoder --out e_fashion.npy
  $ ncod features --model mnist04.safetensors --dataset mnist --split train --classes 0-4 --layer projector --out z.npy --labels-out y.npy --head-out head
  $ ncod metrics --features z.npy --labels y.npy --weights head/W.npy --bias head/b.npy

Layers: enc1..encK (each encoder layer), encoder (= encK), proj1 and projector (the L2-normalised projector
output; models with the ETF projector), logits.

${FORMATS_HELP}`;

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description("one layer's features of a trained model on a dataset, as an N×width float32 .npy")
    .requiredOption('--model <file>', 'checkpoint written by ncod train (.safetensors)')
    .requiredOption('--dataset <name>', 'mnist, fashion or npy')
    .option('--data-dir <dir>', 'folder with the IDX files (mnist, fashion; default: the packaged ones)')
    .option('--features <file>', 'input features, N×d (--dataset npy)')
    .option('--labels <file>', 'labels of --features (needed for --classes and --labels-out)')
    .addOption(new Option('--split <split>', 'official split of mnist/fashion (default test)').choices(['train', 'test']))
    .option('--classes <list>', 'keep these classes, relabelled in order: 0-4 or 0,2,5')
    .requiredOption('--layer <name>', 'enc1..encK, encoder, proj1, projector or logits')
    .requiredOption('--out <file>', 'features to write (.npy, float32 N×width)')
    .option('--labels-out <file>', 'also write the rows\' labels (.npy, int32)')
    .option('--head-out <dir>', "also write the classifier's W.npy (C×d) and b.npy (C) to this folder, for ncod metrics --weights --bias (needs --layer projector, or encoder for a --projector none model)")
    .addOption(backendOption("compute backend (default: the checkpoint's)", null))
    .option('--json', 'print one JSON object describing what was written')
    .addHelpText('after', EXAMPLE)
    .action(async (options: FeaturesCliOptions) => (await import('../features.js')).runFeatures(options));
}
