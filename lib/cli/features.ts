// `ncod features`: one layer's outputs of a trained checkpoint on a dataset, written as an N×width float32 .npy
// (options: commands/features.ts).
import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import { writeNpy } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { Trainer, type LayerName } from '../train/trainer.js';
import { requireFile } from './arrays.js';
import {
  checkDatasetOptions,
  keepClasses,
  loadImages,
  loadNpyDataset,
  parseClasses,
  parseDatasetName,
  type Dataset,
  type Split,
} from './datasets.js';
import { printJson } from './output.js';
import { checkOutputFolder } from './output-path.js';

export interface FeaturesCliOptions {
  model: string;
  dataset: string;
  dataDir?: string;
  features?: string;
  labels?: string;
  split?: Split;
  classes?: string;
  layer: string;
  out: string;
  labelsOut?: string;
  backend?: BackendName;
  json?: boolean;
}

export async function runFeatures(o: FeaturesCliOptions): Promise<void> {
  const dataset = parseDatasetName(o.dataset);
  const classes = o.classes === undefined ? undefined : parseClasses(o.classes);
  checkDatasetOptions(dataset, o);
  if (dataset === 'npy' && o.split) fail('ERR_INVALID_ARGUMENT', '--split', 'mnist or fashion', '--dataset npy');
  checkOutputFolder(o.out, '--out');
  if (o.labelsOut) checkOutputFolder(o.labelsOut, '--labels-out');
  requireFile(o.model, '--model');

  const trainer = withBackend(await loadCheckpoint(o.model), o.backend);
  const layer = checkLayer(trainer, o.layer);

  let data: Dataset =
    dataset === 'npy'
      ? await loadNpyDataset(o.features!, o.labels, ['--features', '--labels'])
      : await loadImages(dataset, o.split ?? 'test', o.dataDir);
  const what = dataset === 'npy' ? '--features' : `${dataset} ${o.split ?? 'test'}`;
  if (classes) data = keepClasses(data, classes, what);
  if (o.labelsOut && !data.labels) fail('ERR_INVALID_ARGUMENT', '--labels-out', '--labels to copy', 'features without labels');
  const inputs = trainer.options.layers[0];
  if (data.dim !== inputs) fail('ERR_SHAPE', what, `${inputs} columns (the model's input width)`, `${data.dim}`);

  const bar = progressBar(layer);
  let features: Float32Array;
  try {
    features = await trainer.features(data.features, layer, { onProgress: bar ? (f) => bar.update(f) : undefined });
  } finally {
    bar?.stop();
  }
  const width = features.length / data.rows;
  await writeNpy(o.out, { dtype: 'float32', shape: [data.rows, width], data: features });
  if (o.labelsOut) await writeNpy(o.labelsOut, { dtype: 'int32', shape: [data.rows], data: data.labels! });

  const report = { layer, rows: data.rows, width, out: o.out, labels_out: o.labelsOut ?? null };
  if (o.json) return printJson(report);
  console.log(`wrote ${data.rows}×${width} features of layer ${layer} to ${o.out}${o.labelsOut ? `, labels to ${o.labelsOut}` : ''}`);
}

/** The layer names this model has: enc1..encK, encoder, proj1/projector with the ETF projector, logits. */
function checkLayer(trainer: Trainer, name: string): LayerName {
  const names: string[] = [...trainer.layerNames(), 'encoder', 'logits'];
  if (!names.includes(name)) fail('ERR_INVALID_ARGUMENT', '--layer', `one of ${names.join(', ')}`, describe(name));
  return name as LayerName;
}

/** The checkpoint's trainer, on another backend when asked. */
function withBackend(trainer: Trainer, backend?: BackendName): Trainer {
  if (!backend || backend === trainer.options.backend) return trainer;
  const state = trainer.state();
  return new Trainer(state.options, { ...state, options: { ...state.options, backend } });
}

function progressBar(layer: string): cliProgress.SingleBar | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `features ${layer} {bar} {percentage}%`, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0);
  return bar;
}
