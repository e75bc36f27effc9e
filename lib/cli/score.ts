// `ncod score`: OOD scores (higher = more in-distribution) of one detector, written as a float64 .npy — from a saved
// detector (--detector) or fitted here from files (--method; the same fit as `ncod fit`). Options: commands/score.ts.
import type { BackendName } from '../backend.js';
import { writeNpy } from '../data/index.js';
import { fail } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import type { Detector } from '../ood/detectors/common.js';
import type { Method } from '../ood/method-names.js';
import { HYPERPARAMETERS, type HyperparameterFlags } from './commands/detector-options.js';
import { fitDetector, readMatrix } from './detector-fit.js';
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

type Reader = typeof readMatrix;

/** readMatrix that reads each file once: a headless logit method needs the --logits width to fit and its rows to score. */
function readingOnce(): Reader {
  const read = new Map<string, ReturnType<Reader>>();
  return (path, option, method) => {
    if (path === undefined) return readMatrix(path, option, method);
    if (!read.has(path)) read.set(path, readMatrix(path, option, method));
    return read.get(path)!;
  };
}

/** The rows to score: --logits or --features, as the detector's input says. */
async function queryRows(o: ScoreOptions, input: { name: 'features' | 'logits'; dim: number }, method: string, readMatrix: Reader): Promise<Float32Array> {
  const option = input.name === 'logits' ? '--logits' : '--features';
  const other = input.name === 'logits' ? o.features : o.logits;
  if (other !== undefined) fail('ERR_INVALID_ARGUMENT', input.name === 'logits' ? '--features' : '--logits', `none: this ${method} detector scores ${input.name}`, other);
  const x = await readMatrix(input.name === 'logits' ? o.logits : o.features, option, method);
  if (x.dim !== input.dim) fail('ERR_SHAPE', option, `${input.dim} columns (the detector's ${input.name} width)`, `${x.dim}`);
  return x.data;
}

async function detectorFor(o: ScoreOptions, readMatrix: Reader): Promise<Detector<Float32Array>> {
  if (o.detector !== undefined) {
    // The file fixes the method, its hyperparameters and its fit: a flag that would change them must not be ignored.
    const ignored = (['method', 'fitFeatures', 'fitLabels', 'weights', 'bias', ...HYPERPARAMETERS] as const).find((key) => o[key] !== undefined);
    if (ignored) fail('ERR_INVALID_ARGUMENT', `--${ignored.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, 'none with --detector (the file fixes the method and its fit)', String(o[ignored]));
    return detectors.load(o.detector, { backend: o.backend });
  }
  const method = o.method ?? fail('ERR_INVALID_ARGUMENT', '--method', 'a detector name, or --detector det.ncod', 'neither');
  // Logit methods without a head score logits: their width is the class count.
  const numClasses = o.logits !== undefined && o.weights === undefined ? (await readMatrix(o.logits, '--logits', method)).dim : undefined;
  const files = { features: o.fitFeatures, labels: o.fitLabels, weights: o.logits === undefined ? o.weights : undefined, bias: o.bias, numClasses };
  return fitDetector(method, o, files, { features: '--fit-features', labels: '--fit-labels', logitWidth: '--logits (or --weights)' });
}

export async function runScore(o: ScoreOptions): Promise<void> {
  for (const [path, option] of [[o.out, '--out'], [o.pValues, '--p-values'], [o.isOod, '--is-ood']] as const) {
    if (path !== undefined) checkOutputFolder(path, option);
  }
  const read = readingOnce();
  const detector = await detectorFor(o, read);
  const input = detector.input!;
  const rows = await queryRows(o, input, detector.method, read);
  const wantDecisions = o.pValues !== undefined || o.isOod !== undefined;
  if (wantDecisions && !detector.calibration) {
    fail('ERR_INVALID_ARGUMENT', o.pValues !== undefined ? '--p-values' : '--is-ood', 'a calibrated detector (ncod fit --calibrate)', 'one without a calibration');
  }
  const decisions = detector.calibration ? await detector.decide(rows) : undefined;
  const scores = decisions?.score ?? (await detector.score(rows));
  await writeNpy(o.out, { dtype: 'float64', shape: [scores.length], data: scores });
  if (decisions && o.pValues) await writeNpy(o.pValues, { dtype: 'float64', shape: [scores.length], data: decisions.pValue });
  if (decisions && o.isOod) await writeNpy(o.isOod, { dtype: 'uint8', shape: [scores.length], data: decisions.isOOD });

  let [min, max] = [Infinity, -Infinity];
  for (const v of scores) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const oodRate = decisions ? decisions.isOOD.reduce((a, b) => a + b, 0) / scores.length : null;
  const summary = { method: detector.method, n: scores.length, min, max, out: o.out, ...(decisions ? { oodRate, threshold: detector.calibration!.threshold } : {}) };
  if (o.json) return printJson(summary);
  const flagged = oodRate === null ? '' : `; ${(100 * oodRate).toFixed(1)} % below the calibrated threshold (OOD)`;
  console.log(`${detector.method}: ${summary.n} scores in [${summary.min.toPrecision(4)}, ${summary.max.toPrecision(4)}]${flagged} → ${o.out}`);
}
