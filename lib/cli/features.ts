// `ncod features`: one layer's outputs of a trained checkpoint on a dataset, written as an N×width float32 .npy
// (options: commands/features.ts).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import { writeNpy } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { classifierHead, loadCheckpoint } from '../train/checkpoint.js';
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
  /** A folder for the classifier's W.npy (C×d) and b.npy (C), as `ncod metrics --weights --bias` reads them. */
  headOut?: string;
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
  const head = o.headOut === undefined ? undefined : classifierHead(trainer);
  // The classifier reads one layer: its W and b beside another layer's features would pair arrays that do not belong.
  if (head && layer !== head.layer) fail('ERR_INVALID_ARGUMENT', '--head-out', `--layer ${head.layer} (the layer this model's classifier reads)`, `--layer ${layer}`);

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
  const headFiles = head && (await writeHead(head, o.headOut!));

  const report = { layer, rows: data.rows, width, out: o.out, labels_out: o.labelsOut ?? null, head_out: headFiles ?? null };
  if (o.json) return printJson(report);
  console.log(`wrote ${data.rows}×${width} features of layer ${layer} to ${o.out}${o.labelsOut ? `, labels to ${o.labelsOut}` : ''}`);
  if (headFiles) console.log(`wrote the classifier's weights to ${headFiles.weights} (${head!.shape.join('×')}) and bias to ${headFiles.bias}`);
}

/** W.npy and b.npy in `dir` (made if missing). */
async function writeHead(head: ReturnType<typeof classifierHead>, dir: string): Promise<{ weights: string; bias: string }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    fail('ERR_IO', '--head-out', 'a folder that can be created', `${dir} (${(error as Error).message})`);
  }
  const files = { weights: path.join(dir, 'W.npy'), bias: path.join(dir, 'b.npy') };
  await writeNpy(files.weights, { dtype: 'float32', shape: head.shape, data: head.weight });
  await writeNpy(files.bias, { dtype: 'float32', shape: [head.shape[0]], data: head.bias });
  return files;
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
