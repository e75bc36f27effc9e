// `ncod train`: trains the NC-controlled MLP (METHOD.md §2–3) on MNIST, Fashion-MNIST or .npy arrays,
// saves a checkpoint and reports the test accuracy (options: commands/train.ts).
import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import { classCount } from '../data/class-count.js';
import { fail } from '../errors.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { Trainer, type EpochStats, type TrainerOptions } from '../train/trainer.js';
import { formatValue } from './arrays.js';
import {
  checkDatasetOptions,
  keepClasses,
  loadImages,
  loadNpyDataset,
  parseClasses,
  parseDatasetName,
  type Dataset,
  type DatasetName,
} from './datasets.js';
import { printJson, table } from './output.js';
import { parseWidths } from './parse.js';
import { checkOutputFolder } from './output-path.js';

export interface TrainCliOptions {
  dataset: string;
  dataDir?: string;
  features?: string;
  labels?: string;
  testFeatures?: string;
  testLabels?: string;
  classes?: string;
  layers: string;
  layerNorm?: boolean;
  projector: 'etf' | 'none';
  projectorHidden?: number;
  alpha?: number;
  labelSmoothing: number;
  epochs: number;
  warmupEpochs: number;
  batch: number;
  lr: number;
  weightDecay: number;
  seed: number;
  backend: BackendName;
  out: string;
  json?: boolean;
}

type Labelled = Dataset & { labels: Int32Array };

export async function runTrain(o: TrainCliOptions): Promise<void> {
  const dataset = parseDatasetName(o.dataset);
  const classes = o.classes === undefined ? undefined : parseClasses(o.classes);
  const hidden = parseWidths(o.layers);
  checkDatasetOptions(dataset, o);
  checkOutputFolder(o.out, '--out');

  const { train, test } = await loadTrainTest(dataset, o, classes);
  const numClasses = classes?.length ?? classCount('training labels', train.labels);
  if (test && classCount('test labels', test.labels) > numClasses) {
    fail('ERR_LABEL_RANGE', 'test labels', `labels below ${numClasses} (the training data's classes)`, 'larger ones');
  }
  const trainerOptions: TrainerOptions = {
    layers: [train.dim, ...hidden],
    layerNorm: o.layerNorm ?? false,
    classes: numClasses,
    projector: o.projector,
    projectorHidden: o.projectorHidden,
    alpha: o.alpha ?? (o.projector === 'none' ? 0 : 0.05),
    labelSmoothing: o.labelSmoothing,
    lr: o.lr,
    weightDecay: o.weightDecay,
    batch: o.batch,
    epochs: o.epochs,
    warmupEpochs: o.warmupEpochs,
    seed: o.seed,
    backend: o.backend,
  };
  const trainer = new Trainer(trainerOptions);

  const progress = epochProgress(trainer.options.epochs, !o.json);
  const start = performance.now();
  let history: EpochStats[];
  try {
    history = await trainer.fit(train.features, train.labels, progress);
  } finally {
    progress.stop();
  }
  const trainSeconds = (performance.now() - start) / 1000;
  await saveCheckpoint(trainer, o.out);

  const report = {
    dataset,
    classes: classes ?? null,
    train_rows: train.rows,
    test_rows: test?.rows ?? null,
    input_dim: train.dim,
    id_test_acc: test ? (await trainer.evaluate(test.features, test.labels)).accuracy : null,
    id_train_acc: (await trainer.evaluate(train.features, train.labels)).accuracy,
    train_seconds: trainSeconds,
    epochs: trainer.epoch,
    history,
    options: trainer.options,
    out: o.out,
  };
  if (o.json) return printJson(report);
  console.log(historyTable(history));
  console.log();
  console.log(
    table(
      ['summary', ''],
      [
        ['data', `${dataset}${classes ? `, classes ${o.classes}` : ''}: ${report.train_rows} train rows, ${report.test_rows ?? 'no'} test rows`],
        ['model', modelText(trainer)],
        ['test accuracy', formatValue(report.id_test_acc)],
        ['train accuracy', formatValue(report.id_train_acc)],
        ['train time', `${trainSeconds.toFixed(1)} s`],
        ['checkpoint', o.out],
      ],
    ),
  );
}

/** The official train and test splits, or the array files; with --classes, only those classes, relabelled. */
async function loadTrainTest(dataset: DatasetName, o: TrainCliOptions, classes?: number[]): Promise<{ train: Labelled; test?: Labelled }> {
  let train: Dataset;
  let test: Dataset | undefined;
  if (dataset === 'npy') {
    if (!o.labels) fail('ERR_INVALID_ARGUMENT', '--labels', 'training labels with --dataset npy', 'none');
    if (!o.testFeatures !== !o.testLabels) fail('ERR_INVALID_ARGUMENT', '--test-features/--test-labels', 'both or neither', 'only one');
    train = await loadNpyDataset(o.features!, o.labels, ['--features', '--labels']);
    if (o.testFeatures) test = await loadNpyDataset(o.testFeatures, o.testLabels, ['--test-features', '--test-labels']);
  } else {
    if (o.testFeatures || o.testLabels) fail('ERR_INVALID_ARGUMENT', '--test-features/--test-labels', 'only with --dataset npy', `--dataset ${dataset}`);
    [train, test] = await Promise.all([loadImages(dataset, 'train', o.dataDir), loadImages(dataset, 'test', o.dataDir)]);
  }
  if (test && test.dim !== train.dim) fail('ERR_SHAPE', '--test-features', `${train.dim} columns like the training features`, `${test.dim}`);
  if (classes) {
    train = keepClasses(train, classes, 'the training data');
    if (test) test = keepClasses(test, classes, 'the test data');
  }
  return { train: train as Labelled, test: test as Labelled | undefined };
}

function modelText(trainer: Trainer): string {
  const o = trainer.options;
  const d = o.layers[o.layers.length - 1];
  const projector = o.projector === 'etf' ? `, ETF projector ${d} → ${o.projectorHidden} → ${d}` : ', no projector';
  return `encoder ${o.layers.join(' → ')}${o.layerNorm ? ' (LayerNorm)' : ''}${projector}, ${o.classes} classes, α = ${o.alpha}`;
}

function historyTable(history: EpochStats[]): string {
  return table(
    ['epoch', 'loss', 'ce', 'entropy', 'train acc', 'lr', 'seconds'],
    history.map((h) => [h.epoch, formatValue(h.loss), formatValue(h.ce), formatValue(h.entropy), formatValue(h.accuracy), formatValue(h.lr), h.seconds.toFixed(2)]),
  );
}

function epochLine(h: EpochStats, epochs: number): string {
  return `epoch ${h.epoch}/${epochs}: loss ${formatValue(h.loss)}, entropy ${formatValue(h.entropy)}, train acc ${formatValue(h.accuracy)}, lr ${formatValue(h.lr)} (${h.seconds.toFixed(2)} s)`;
}

/**
 * At a terminal, one progress bar per epoch on stderr, left on screen with the epoch's numbers. Otherwise one
 * line per epoch on stderr when `lines` (not with --json, whose stderr stays clean for scripts).
 */
function epochProgress(epochs: number, lines: boolean) {
  let bar: cliProgress.SingleBar | undefined;
  let epoch = 1;
  const startBar = () => {
    bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `epoch ${epoch}/${epochs} {bar} {percentage}% {stats}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { stats: '' });
  };
  const tty = process.stderr.isTTY;
  return {
    onProgress: tty
      ? (fraction: number) => {
          if (!bar) startBar();
          bar!.update(fraction);
        }
      : undefined,
    onEpoch: (h: EpochStats) => {
      if (tty) {
        if (!bar) startBar();
        bar!.update(1, { stats: `| ${epochLine(h, epochs).replace(/^epoch \S+: /, '')}` });
        bar!.stop();
        bar = undefined;
      } else if (lines) {
        process.stderr.write(epochLine(h, epochs) + '\n');
      }
      epoch = h.epoch + 1;
    },
    stop: () => bar?.stop(),
  };
}
