// Fitting a detector from files, for `ncod fit` (which saves it) and `ncod score --method` (which scores with it at
// once): the files are read here, the fit is lib/ood/fit-method.ts, so a saved detector scores exactly what
// `ncod score --method` would.
import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import type { Detector } from '../ood/detectors/common.js';
import { fitMethod, methodNeeds } from '../ood/fit-method.js';
import { isLogitMethod, type Method } from '../ood/method-names.js';
import type { FeatureBatch } from '../data/batches.js';
import { ArrayStream, classCountOf, FeatureFileSource } from '../data/stream/source.js';
import { loadFloatVector, loadMatrix, type Matrix } from './arrays.js';
import { interruptSignal } from './interrupt.js';
import { rowProgress, type RowProgress } from './row-progress.js';
import type { HyperparameterFlags } from './commands/detector-options.js';

export interface FitFiles {
  /** ID (training) features; statistics-based methods need them. */
  features?: string;
  labels?: string;
  weights?: string;
  bias?: string;
  /** For logit methods without a head: the logit width they will score. */
  numClasses?: number;
}

/** The flag each input is given with, for messages ("--fit-features" in `ncod score`, "--features" in `ncod fit`). */
export interface FlagNames {
  features: string;
  labels: string;
  /** How the logit width is given: `--num-classes` in `ncod fit`, the `--logits` file's width in `ncod score`. */
  logitWidth: string;
}

export async function readMatrix(path: string | undefined, option: string, method: string): Promise<Matrix> {
  if (path === undefined) fail('ERR_INVALID_ARGUMENT', option, `a value (method ${method} needs it)`, 'none');
  return loadMatrix(path, option);
}

/** A fitted (or, for logit methods, bound) detector of `method` from the files. */
export async function fitDetector(
  method: Method,
  flags: HyperparameterFlags & { backend: BackendName },
  files: FitFiles,
  names: FlagNames,
): Promise<Detector<Float32Array>> {
  const needs = methodNeeds(method);
  // The fit rows stream from their files (one chunk in memory at a time); labels ride along where needed.
  let source: FeatureFileSource | undefined;
  let numClasses: number | undefined;
  if (needs.features) {
    if (files.features === undefined) fail('ERR_INVALID_ARGUMENT', names.features, `a value (method ${method} needs it)`, 'none');
    const features = await ArrayStream.open(files.features, names.features);
    const labels = needs.labels && files.labels !== undefined ? await ArrayStream.open(files.labels, names.labels) : undefined;
    source = new FeatureFileSource(features, labels, undefined);
    if (labels) numClasses = await classCountOf(labels);
  }
  // Logit methods take a head only when one is given; the others that need one read --weights (or say so).
  const wantsHead = needs.head || (isLogitMethod(method) && files.weights !== undefined);
  let head;
  if (wantsHead && files.weights !== undefined) {
    const w = await readMatrix(files.weights, '--weights', method);
    const bias = files.bias ? await loadFloatVector(files.bias, '--bias') : undefined;
    if (source && source.dim !== w.dim) fail('ERR_SHAPE', names.features, `${w.dim} columns (as --weights)`, `${source.dim}`);
    head = { weights: w.data, bias, numClasses: w.rows };
  }
  const progress = rowProgress(`fit ${method}`);
  const data = { batches: source && withProgress(source, progress), dim: source?.dim, numClasses, head, logitWidth: files.numClasses };
  const inputNames = { features: names.features, labels: names.labels, head: '--weights', principalDim: '--principal-dim', logitWidth: names.logitWidth };
  try {
    return await fitMethod(method, data, { ...flags, signal: interruptSignal() }, inputNames);
  } finally {
    progress.stop();
  }
}

/** The source, re-iterable as it is, reporting rows on each pass (ViM and ReAct make two) and stopping on Ctrl-C. */
function withProgress(source: FeatureFileSource, progress: RowProgress): AsyncIterable<FeatureBatch> & { rows: number } {
  let pass = 0;
  return {
    rows: source.rows, // the total, so that KNN's bank is allocated once (lib/data/batches.ts BatchSource)
    async *[Symbol.asyncIterator]() {
      pass += 1;
      let done = 0;
      for await (const batch of source) {
        yield batch;
        done += batch.features.length / source.dim;
        progress.update(done, source.rows, pass > 1 ? `pass ${pass}` : '');
      }
    },
  };
}
