// `ncod score`: OOD scores (higher = more in-distribution) of one detector, written as a float64 .npy — from a saved
// detector (--detector) or fitted here from files (--method; the same fit as `ncod fit`). Options: commands/score.ts.
import type { BackendName } from '../backend.js';
import { checkedBatches } from '../data/batches.js';
import { NpyWriter } from '../data/stream/npy-writer.js';
import { ArrayStream, openFeatureSource, type FeatureFileSource } from '../data/stream/source.js';
import { fail } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import type { Detector } from '../ood/detectors/common.js';
import type { Method } from '../ood/method-names.js';
import { HYPERPARAMETERS, type HyperparameterFlags } from './commands/detector-options.js';
import { fitDetector } from './detector-fit.js';
import { interruptSignal } from './interrupt.js';
import { rowProgress } from './row-progress.js';
import { printJson } from './output.js';
import { checkOutputFolder } from './output-path.js';

export interface ScoreOptions extends HyperparameterFlags {
  method?: Method;
  detector?: string;
  features?: string;
  logits?: string;
  fitFeatures?: string;
  fitLabels?: string;
  weights?: string;
  bias?: string;
  backend: BackendName;
  out: string;
  pValues?: string;
  isOod?: string;
  json?: boolean;
}

/** The rows to score, streamed: --logits or --features, as the detector's input says. */
async function queryRows(o: ScoreOptions, input: { name: 'features' | 'logits'; dim: number }, method: string): Promise<FeatureFileSource> {
  const option = input.name === 'logits' ? '--logits' : '--features';
  const other = input.name === 'logits' ? o.features : o.logits;
  if (other !== undefined) fail('ERR_INVALID_ARGUMENT', input.name === 'logits' ? '--features' : '--logits', `none: this ${method} detector scores ${input.name}`, other);
  const spec = input.name === 'logits' ? o.logits : o.features;
  if (spec === undefined) fail('ERR_INVALID_ARGUMENT', option, `a value (method ${method} needs it)`, 'none');
  const source = await openFeatureSource({ features: await ArrayStream.open(spec, option), what: option });
  if (source.dim !== input.dim) fail('ERR_SHAPE', option, `${input.dim} columns (the detector's ${input.name} width)`, `${source.dim}`);
  return source;
}

async function detectorFor(o: ScoreOptions): Promise<Detector<Float32Array>> {
  if (o.detector !== undefined) {
    // The file fixes the method, its hyperparameters and its fit: a flag that would change them must not be ignored.
    const ignored = (['method', 'fitFeatures', 'fitLabels', 'weights', 'bias', ...HYPERPARAMETERS] as const).find((key) => o[key] !== undefined);
    if (ignored) fail('ERR_INVALID_ARGUMENT', `--${ignored.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, 'none with --detector (the file fixes the method and its fit)', String(o[ignored]));
    return detectors.load(o.detector, { backend: o.backend });
  }
  const method = o.method ?? fail('ERR_INVALID_ARGUMENT', '--method', 'a detector name, or --detector det.ncod', 'neither');
  // Logit methods without a head score logits: their width is the class count.
  const numClasses = o.logits !== undefined && o.weights === undefined ? (await ArrayStream.open(o.logits, '--logits')).rowElements : undefined;
  const files = { features: o.fitFeatures, labels: o.fitLabels, weights: o.logits === undefined ? o.weights : undefined, bias: o.bias, numClasses };
  return fitDetector(method, o, files, { features: '--fit-features', labels: '--fit-labels', logitWidth: '--logits (or --weights)' });
}

/** The outputs asked for, each written chunk by chunk and renamed into place only when complete. */
async function openOutputs(o: ScoreOptions, rows: number) {
  const writers: NpyWriter[] = [];
  const create = async (path: string | undefined, dtype: 'float64' | 'uint8') => {
    if (path === undefined) return undefined;
    const writer = await NpyWriter.create(path, dtype, [rows]);
    writers.push(writer);
    return writer;
  };
  return {
    scores: (await create(o.out, 'float64'))!,
    pValues: await create(o.pValues, 'float64'),
    isOod: await create(o.isOod, 'uint8'),
    commit: async () => {
      for (const w of writers) await w.commit();
    },
    abort: async () => {
      for (const w of writers) await w.abort();
    },
  };
}

/**
 * Scores stream: each chunk of rows is scored (and decided, when calibrated) and appended to the outputs, so memory
 * does not grow with the rows; the outputs appear only once complete, and not at all on failure or Ctrl-C.
 */
export async function runScore(o: ScoreOptions): Promise<void> {
  for (const [path, option] of [[o.out, '--out'], [o.pValues, '--p-values'], [o.isOod, '--is-ood']] as const) {
    if (path !== undefined) checkOutputFolder(path, option);
  }
  const detector = await detectorFor(o);
  const source = await queryRows(o, detector.input!, detector.method);
  const wantDecisions = o.pValues !== undefined || o.isOod !== undefined;
  if (wantDecisions && !detector.calibration) {
    fail('ERR_INVALID_ARGUMENT', o.pValues !== undefined ? '--p-values' : '--is-ood', 'a calibrated detector (ncod fit --calibrate)', 'one without a calibration');
  }
  const signal = interruptSignal();
  const progress = rowProgress('score');
  const outputs = await openOutputs(o, source.rows);
  let [min, max, flagged, done] = [Infinity, -Infinity, 0, 0];
  try {
    for await (const batch of checkedBatches(source, { dim: source.dim, signal, what: o.logits !== undefined ? '--logits' : '--features' })) {
      const decisions = detector.calibration ? await detector.decide(batch.features, { signal }) : undefined;
      const scores = decisions?.score ?? (await detector.score(batch.features, { signal }));
      await outputs.scores.append(scores);
      if (decisions) {
        await outputs.pValues?.append(decisions.pValue);
        await outputs.isOod?.append(decisions.isOOD);
        for (const v of decisions.isOOD) flagged += v;
      }
      for (const v of scores) [min, max] = [Math.min(min, v), Math.max(max, v)];
      done += batch.rows;
      progress.update(done, source.rows);
    }
    await outputs.commit();
  } catch (error) {
    await outputs.abort();
    throw error;
  } finally {
    progress.stop();
  }

  const oodRate = detector.calibration ? flagged / done : null;
  const summary = { method: detector.method, n: done, min, max, out: o.out, ...(detector.calibration ? { oodRate, threshold: detector.calibration.threshold } : {}) };
  if (o.json) return printJson(summary);
  const flaggedText = oodRate === null ? '' : `; ${(100 * oodRate).toFixed(1)} % below the calibrated threshold (OOD)`;
  console.log(`${detector.method}: ${summary.n} scores in [${summary.min.toPrecision(4)}, ${summary.max.toPrecision(4)}]${flaggedText} → ${o.out}`);
}
