// `ncod metrics`: Neural Collapse metrics of saved features, one row per layer (options: commands/metrics.ts).
import cliProgress from 'cli-progress';

import type { BackendName } from '../backend.js';
import type { Tensor } from '../data/index.js';
import { fail } from '../errors.js';
import { NC_METRIC_KEYS, ncMetrics, type Layer, type NcMetrics } from '../metrics/nc.js';
import { parseArraySpec } from '../data/read-array.js';
import { formatValue, isContainer, loadFloatVector, loadNamed, readArray, readArrays, readLabels, toFeatures } from './arrays.js';
import { printJson, table } from './output.js';

export interface MetricsCliOptions {
  features: string[];
  labels: string;
  weights?: string;
  bias?: string;
  oodFeatures?: string;
  numClasses?: number;
  weightedGlobalMean?: boolean;
  rankTolerance?: number;
  backend: BackendName;
  json?: boolean;
}

export type Row = NcMetrics & { layer: string };

const COUNT_KEYS = ['n', 'dim', 'classes', 'rank'] as const;
const METRIC_KEYS = NC_METRIC_KEYS;

export async function runMetrics(options: MetricsCliOptions): Promise<void> {
  const labels = await readLabels(options.labels, '--labels');
  const numClasses = options.numClasses ?? maxLabel(labels) + 1;
  const layers = await loadLayers(options, labels.length, numClasses);
  const rows = await computeRows(layers, labels, numClasses, options);
  if (options.json) return printJson(rows.length === 1 ? withoutLayer(rows[0]) : rows);
  console.log(metricsTable(rows));
}

function maxLabel(labels: Int32Array): number {
  if (labels.length === 0) fail('ERR_SHAPE', '--labels', 'at least one label', 'an empty array');
  let max = labels[0];
  for (let i = 1; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max;
}

/** A layer's inputs as ncMetrics takes them, plus its feature dimension for shape checks. */
type LoadedLayer = Layer & { dim: number };

/** Every layer's features, with the classifier (single layer only) and OOD features attached. */
async function loadLayers(options: MetricsCliOptions, numRows: number, numClasses: number): Promise<LoadedLayer[]> {
  const features = await loadNamed(options.features, '--features');
  if (features.size === 0) fail('ERR_INVALID_ARGUMENT', '--features', 'at least one array', 'a file with none');
  if (features.size > 1 && (options.weights || options.bias)) {
    fail('ERR_INVALID_ARGUMENT', '--weights/--bias', 'a single layer (they would apply to every layer)', `${features.size} layers`);
  }
  if (options.bias && !options.weights) fail('ERR_INVALID_ARGUMENT', '--bias', '--weights to go with it', 'bias without weights');
  const ood = options.oodFeatures ? await loadOod(options.oodFeatures, [...features.keys()]) : undefined;
  const layers: LoadedLayer[] = [];
  for (const [name, tensor] of features) {
    const what = features.size > 1 || isContainer(options.features[0]) ? `--features ${name}` : '--features';
    const x = toFeatures(tensor, what);
    if (x.rows !== numRows) fail('ERR_SHAPE', what, `${numRows} rows (one per label)`, `${x.rows}`);
    const layer: LoadedLayer = { name, features: x.data, dim: x.dim };
    if (ood) layer.oodFeatures = oodMatrix(ood.get(name)!, name, x.dim);
    layers.push(layer);
  }
  if (options.weights) Object.assign(layers[0], await loadClassifier(options.weights, options.bias, numClasses, layers[0].dim));
  return layers;
}

/** One layer: the one array (file or file:name). Several: a file holding an array for every layer name. */
async function loadOod(spec: string, names: string[]): Promise<Map<string, Tensor>> {
  if (names.length === 1) return new Map([[names[0], await readArray(spec, '--ood-features')]]);
  if (parseArraySpec(spec, '--ood-features').format === 'npy') {
    fail('ERR_INVALID_ARGUMENT', '--ood-features', `a file with one array per layer (${names.join(', ')})`, spec);
  }
  const arrays = await readArrays(spec, '--ood-features');
  const missing = names.filter((name) => !arrays.has(name));
  if (missing.length > 0) {
    fail('ERR_INVALID_ARGUMENT', '--ood-features', `arrays named like the layers (${names.join(', ')})`, `none for ${missing.join(', ')}`);
  }
  return arrays;
}

function oodMatrix(tensor: Tensor, name: string, dim: number): Float32Array {
  const what = `--ood-features ${name}`;
  const x = toFeatures(tensor, what);
  if (x.dim !== dim) fail('ERR_SHAPE', what, `${dim} columns like the layer's features`, `${x.dim}`);
  return x.data;
}

/** Weights must be exactly C×d: a transposed d×C matrix has the same length and would pass unnoticed. */
export async function loadClassifier(weightsPath: string, biasPath: string | undefined, numClasses: number, dim: number) {
  const tensor = await readArray(weightsPath, '--weights');
  const w = toFeatures(tensor, '--weights');
  if (w.rows !== numClasses || w.dim !== dim) {
    fail('ERR_SHAPE', '--weights', `shape [${numClasses}, ${dim}] (classes × feature dim)`, `shape [${tensor.shape.join(', ')}]`);
  }
  if (!biasPath) return { weights: w.data };
  const bias = await loadFloatVector(biasPath, '--bias');
  if (bias.length !== numClasses) fail('ERR_SHAPE', '--bias', `${numClasses} elements (one per class)`, `${bias.length}`);
  return { weights: w.data, bias };
}

// ---- computing -----------------------------------------------------------------------------------

/** Layers one after another (each already uses every core), with one progress bar over all of them. */
async function computeRows(layers: LoadedLayer[], labels: Int32Array, numClasses: number, options: MetricsCliOptions): Promise<Row[]> {
  const bar = progressBar();
  const rows: Row[] = [];
  try {
    for (const [k, { name, dim, ...arrays }] of layers.entries()) {
      bar?.update(k / layers.length, { layer: name });
      const metrics = await ncMetrics({
        ...arrays,
        labels,
        numClasses,
        dim,
        weightedGlobalMean: options.weightedGlobalMean,
        rankTolerance: options.rankTolerance,
        backend: options.backend,
        onProgress: bar ? (fraction) => bar.update((k + fraction) / layers.length, { layer: name }) : undefined,
      });
      rows.push({ layer: name, ...metrics });
    }
    bar?.update(1);
  } finally {
    bar?.stop();
  }
  return rows;
}

/** A bar on stderr for people at a terminal; none when stderr is piped, so scripts and tests get clean output. */
function progressBar(): cliProgress.SingleBar | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'metrics {bar} {percentage}% | {layer}',
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { layer: '' });
  return bar;
}

// ---- output --------------------------------------------------------------------------------------

function withoutLayer(row: Row): NcMetrics {
  const { layer: _layer, ...metrics } = row;
  return metrics;
}

/**
 * Counts first, then only the metrics that some row has (the others need weights or OOD features, or, like
 * nc4_ncc_agreement from merged states, the samples themselves). `label` heads the first column (row.layer).
 */
export function metricsTable(rows: Row[], label = 'layer'): string {
  const metricKeys = METRIC_KEYS.filter((key) => rows.some((row) => row[key] !== null));
  return table(
    [label, ...COUNT_KEYS, ...metricKeys],
    rows.map((row) => [row.layer, ...COUNT_KEYS.map((key) => row[key]), ...metricKeys.map((key) => formatValue(row[key]))]),
  );
}
