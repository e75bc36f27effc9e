// `ncod train` as commander parses it; the work is in ../train.ts, loaded only when the command runs.
import { Option, type Command } from '../commander.js';
import { FORMATS_HELP } from '../formats-help.js';

import { parseInteger, parseNumber } from '../parse.js';
import type { TrainCliOptions } from '../train.js';
import { backendOption } from './backend-option.js';

const EXAMPLE = `
Examples:
  $ ncod train --dataset mnist --classes 0-4 --epochs 10 --out mnist04.safetensors
  $ ncod train --dataset npy --features x.npy --labels y.npy --layers 256,128 --projector none --out base.safetensors --json
  $ ncod train --dataset fashion --layers 512,512 --layer-norm --backend cuda --out fashion-ln.safetensors

mnist and fashion use the official train split for training and the test split for the test accuracy
(the packaged IDX files, or {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in --data-dir).
--classes keeps those classes and relabels them 0..k−1 in the order given (5-9 → 0..4).

${FORMATS_HELP}`;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the NC-controlled MLP (encoder → frozen ETF projector → classifier) and save a checkpoint')
    .requiredOption('--dataset <name>', 'mnist, fashion or npy')
    .option('--data-dir <dir>', 'folder with the IDX files (mnist, fashion; default: the packaged ones)')
    .option('--features <file>', 'training features, N×d (--dataset npy)')
    .option('--labels <file>', 'training labels, N integers (--dataset npy)')
    .option('--test-features <file>', 'test features for the test accuracy (--dataset npy)')
    .option('--test-labels <file>', 'test labels (--dataset npy)')
    .option('--classes <list>', 'keep these classes, relabelled in order: 0-4 or 0,2,5')
    .option('--layers <widths>', 'hidden widths of the encoder (the input width comes from the data)', '512,512,512')
    .option('--layer-norm', 'LayerNorm in every encoder layer: Linear → LayerNorm → ReLU')
    .addOption(new Option('--projector <kind>', 'frozen simplex-ETF projector, or none (the baseline)').choices(['etf', 'none']).default('etf'))
    .option('--projector-hidden <n>', 'hidden width of the projector (default 4 × the encoder width)', parseInteger)
    .option('--alpha <x>', 'weight of the entropy regulariser (default 0.05; 0 with --projector none)', parseNumber)
    .option('--label-smoothing <x>', 'label smoothing of the cross-entropy', parseNumber, 0.1)
    .option('--epochs <n>', 'epochs', parseInteger, 10)
    .option('--warmup-epochs <n>', 'epochs of linear learning-rate warm-up before the cosine decay', parseInteger, 5)
    .option('--batch <n>', 'batch size', parseInteger, 256)
    .option('--lr <x>', 'peak learning rate (AdamW)', parseNumber, 1e-3)
    .option('--weight-decay <x>', 'AdamW weight decay', parseNumber, 0.05)
    .option('--seed <s>', 'seed of the initialisation and the batch order', parseInteger, 0)
    .addOption(backendOption())
    .requiredOption('--out <file>', 'checkpoint to write (.safetensors)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: TrainCliOptions) => (await import('../train.js')).runTrain(options));
}
