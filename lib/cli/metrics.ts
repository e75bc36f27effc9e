// `ncod metrics`: Neural Collapse metrics of saved features, one row per layer (options: commands/metrics.ts).
import type { BackendName } from '../backend.js';
import { ArrayStream, classCountOf, FeatureFileSource, openNamedStreams } from '../data/stream/source.js';
import { fail } from '../errors.js';
import { NC_METRIC_KEYS, ncMetrics, type NcMetrics } from '../metrics/nc.js';
import { accumulateBatches } from '../metrics/nc-stream.js';
import { interruptSignal } from './interrupt.js';
import { formatValue, loadFloatVector, openLayerStreams, readArray, toFeatures } from './arrays.js';
import { checkOutputFolder } from './output-path.js';
import { printJson, table } from './output.js';
import { rowProgress } from './row-progress.js';

export interface MetricsCliOptions {
  features: string[];
  labels: string;
  weights?: string;
  bias?: string;
  oodFeatures?: string;
  numClasses?: number;
  weightedGlobalMean?: boolean;
  rankTolerance?: number;
  saveState?: string;
  stateOnly?: boolean;
  backend: BackendName;
  json?: boolean;
}

export type Row = NcMetrics & { layer: string };

const COUNT_KEYS = ['n', 'dim', 'classes', 'rank'] as const;
const METRIC_KEYS = NC_METRIC_KEYS;
/** Where --save-state puts the layer's name when there are several layers. */
const LAYER_PLACEHOLDER = '{layer}';

/**
 * Every input is streamed from its files (one chunk in memory at a time, whatever the size); one pass per layer,
 * plus a second for NC4's agreement when --weights is given.
 */
export async function runMetrics(options: MetricsCliOptions): Promise<void> {
  const labels = await ArrayStream.open(options.labels, '--labels');
  const layers = await openLayerStreams(options.features, '--features');
  if (layers.size === 0) fail('ERR_INVALID_ARGUMENT', '--features', 'at least one array', 'a file with none');
  checkSaveState(options, layers.size);
  if (layers.size > 1 && (options.weights || options.bias)) {
    fail('ERR_INVALID_ARGUMENT', '--weights/--bias', 'a single layer (they would apply to every layer)', `${layers.size} layers`);
  }
  if (options.bias && !options.weights) fail('ERR_INVALID_ARGUMENT', '--bias', '--weights to go with it', 'bias without weights');
  const sources = new Map<string, FeatureFileSource>();
  for (const [name, stream] of layers) sources.set(name, new FeatureFileSource(stream, labels, undefined));
  const ood = options.oodFeatures ? await openOod(options.oodFeatures, [...layers.keys()], sources) : undefined;
  const numClasses = options.numClasses ?? (await classCountOf(labels));
  const first = sources.values().next().value!;
  const classifier = options.weights ? await loadClassifier(options.weights, options.bias, numClasses, first.dim) : undefined;
  if (options.stateOnly) return saveStates(sources, ood, numClasses, options);
  const rows = await computeRows(sources, ood, classifier, numClasses, options);
  if (options.json) return printJson(rows.length === 1 ? withoutLayer(rows[0]) : rows);
  console.log(metricsTable(rows));
}

function checkSaveState({ saveState: path, stateOnly, weights }: MetricsCliOptions, layers: number): void {
  if (stateOnly && path === undefined) fail('ERR_INVALID_ARGUMENT', '--state-only', '--save-state to go with it', 'no state file');
  if (stateOnly && weights) fail('ERR_INVALID_ARGUMENT', '--weights', 'none with --state-only (give them to ncod merge)', weights);
  if (path === undefined) return;
  if (layers > 1 && !path.includes(LAYER_PLACEHOLDER)) {
    fail('ERR_INVALID_ARGUMENT', '--save-state', `a path with ${LAYER_PLACEHOLDER} in it (one state file per layer)`, `${path} for ${layers} layers`);
  }
  checkOutputFolder(path, '--save-state');
}

/** One layer: the one array (file, file:name or shards). Several: a file (or shards) with an array per layer name. */
async function openOod(spec: string, names: string[], sources: Map<string, FeatureFileSource>): Promise<Map<string, FeatureFileSource>> {
  const streams = names.length === 1 ? new Map([[names[0], await ArrayStream.open(spec, '--ood-features')]]) : await openNamedStreams(spec, '--ood-features');
  const missing = names.filter((name) => !streams.has(name));
  if (missing.length > 0) {
    fail('ERR_INVALID_ARGUMENT', '--ood-features', `arrays named like the layers (${names.join(', ')})`, `none for ${missing.join(', ')}`);
  }
  const out = new Map<string, FeatureFileSource>();
  for (const name of names) {
    const source = new FeatureFileSource(streams.get(name)!, undefined, undefined);
    const dim = sources.get(name)!.dim;
    if (source.dim !== dim) fail('ERR_SHAPE', streams.get(name)!.what, `${dim} columns like the layer's features`, `${source.dim}`);
    out.set(name, source);
  }
  return out;
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

/** --state-only: one pass per layer into its state file, no metrics (a shard may miss classes). */
async function saveStates(sources: Map<string, FeatureFileSource>, ood: Map<string, FeatureFileSource> | undefined, numClasses: number, options: MetricsCliOptions): Promise<void> {
  const progress = rowProgress('metrics');
  const written: { layer: string; state: string; n: number; dim: number; classes: number; emptyClasses: number }[] = [];
  try {
    for (const [name, source] of sources) {
      const acc = await accumulateBatches({ batches: source, numClasses, oodBatches: ood?.get(name), backend: options.backend, signal: interruptSignal(), onRows: (done, total) => progress.update(done, total, name) });
      const path = options.saveState!.replaceAll(LAYER_PLACEHOLDER, name);
      await acc.save(path);
      const counts = acc.stateWithoutScatter().counts;
      written.push({ layer: name, state: path, n: counts.reduce((a, b) => a + b, 0), dim: acc.dim, classes: numClasses, emptyClasses: counts.filter((c) => c === 0).length });
    }
  } finally {
    progress.stop();
  }
  if (options.json) return printJson(written.length === 1 ? written[0] : written);
  for (const w of written) console.log(`${w.layer}: ${w.n} rows (${w.classes - w.emptyClasses} of ${w.classes} classes) → ${w.state}`);
}

/** Layers one after another (each already uses every core), with one progress display over all of them. */
async function computeRows(
  sources: Map<string, FeatureFileSource>,
  ood: Map<string, FeatureFileSource> | undefined,
  classifier: { weights: Float32Array; bias?: Float32Array } | undefined,
  numClasses: number,
  options: MetricsCliOptions,
): Promise<Row[]> {
  const progress = rowProgress('metrics');
  const rows: Row[] = [];
  try {
    for (const [name, source] of sources) {
      const metrics = await ncMetrics({
        batches: source,
        numClasses,
        ...classifier,
        oodBatches: ood?.get(name),
        weightedGlobalMean: options.weightedGlobalMean,
        rankTolerance: options.rankTolerance,
        backend: options.backend,
        signal: interruptSignal(),
        onRows: (done, total) => progress.update(done, total, name),
        onState: options.saveState ? (acc) => acc.save(options.saveState!.replaceAll(LAYER_PLACEHOLDER, name)) : undefined,
      });
      rows.push({ layer: name, ...metrics });
    }
  } finally {
    progress.stop();
  }
  return rows;
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
