// `ncod score`: OOD scores (higher = more in-distribution) of one detector, written as a float64 .npy
// (options: commands/score.ts).
import type { BackendName } from '../backend.js';
import { writeNpy } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import { loadFloatVector, loadMatrix, readLabels, type Matrix } from './arrays.js';
import { METHODS, type Method } from './commands/score.js';
import { printJson } from './output.js';

export interface ScoreOptions {
  method: Method;
  features?: string;
  logits?: string;
  fitFeatures?: string;
  fitLabels?: string;
  weights?: string;
  bias?: string;
  temperature?: number;
  k?: number;
  principalDim?: number;
  percentile?: number;
  alpha?: number;
  backend: BackendName;
  out: string;
  json?: boolean;
}

function need<T>(value: T | undefined, option: string, method: string): T {
  if (value === undefined) fail('ERR_INVALID_ARGUMENT', option, `a value (method ${method} needs it)`, 'none');
  return value;
}

async function matrix(path: string | undefined, option: string, method: string): Promise<Matrix> {
  return loadMatrix(need(path, option, method), option);
}

function sameDim(a: Matrix, b: Matrix, what: string): void {
  if (a.dim !== b.dim) fail('ERR_SHAPE', what, `${a.dim} columns (as the fit features)`, `${b.dim}`);
}

async function computeScores(o: ScoreOptions): Promise<Float64Array> {
  const m = o.method;
  const run = { backend: o.backend };
  const head = async () => {
    const w = await matrix(o.weights, '--weights', m);
    const bias = o.bias ? await loadFloatVector(o.bias, '--bias') : undefined;
    return { weights: w.data, bias, numClasses: w.rows, dim: w.dim };
  };
  if (m === 'msp' || m === 'maxlogit' || m === 'energy' || m === 'gen') {
    const detector = m === 'msp' ? detectors.msp(run) : m === 'maxlogit' ? detectors.maxLogit(run) : m === 'energy' ? detectors.energy({ ...run, temperature: o.temperature }) : detectors.gen(run);
    if (o.logits) {
      const z = await matrix(o.logits, '--logits', m);
      return detector.score({ logits: z.data, numClasses: z.dim });
    }
    const [x, h] = [await matrix(o.features, '--features (or --logits)', m), await head()];
    return detector.score({ features: x.data, ...h });
  }
  const x = await matrix(o.features, '--features', m);
  const fit = await matrix(o.fitFeatures, '--fit-features', m);
  sameDim(fit, x, '--features');
  switch (m) {
    case 'react': {
      const detector = await detectors.react({ ...run, temperature: o.temperature, percentile: o.percentile }).fit({ features: fit.data });
      return detector.score({ features: x.data, ...(await head()) });
    }
    case 'mahalanobis':
    case 'relative-mahalanobis': {
      const labels = await readLabels(need(o.fitLabels, '--fit-labels', m), '--fit-labels');
      const numClasses = labels.reduce((a, b) => Math.max(a, b), -1) + 1;
      const detector = m === 'mahalanobis' ? detectors.mahalanobis(run) : detectors.relativeMahalanobis(run);
      await detector.fit({ features: fit.data, labels, numClasses, dim: fit.dim });
      return detector.score(x.data);
    }
    case 'knn': {
      const detector = await detectors.knn({ ...run, k: o.k }).fit({ features: fit.data, dim: fit.dim });
      return detector.score(x.data);
    }
    case 'vim':
    case 'residual':
    case 'neco': {
      const principalDim = need(o.principalDim, '--principal-dim', m);
      const options = { ...run, principalDim };
      const detector = m === 'vim' ? detectors.vim(options) : m === 'residual' ? detectors.residual(options) : detectors.neco(options);
      await detector.fit({ features: fit.data, ...(await head()) });
      return detector.score(x.data);
    }
    case 'fdbd':
    case 'nci': {
      const detector = m === 'fdbd' ? detectors.fdbd(run) : detectors.nci({ ...run, alpha: o.alpha });
      await detector.fit({ features: fit.data, ...(await head()) });
      return detector.score(x.data);
    }
  }
  return fail('ERR_INVALID_ARGUMENT', '--method', METHODS.join(', '), describe(m));
}

export async function runScore(o: ScoreOptions): Promise<void> {
  const scores = await computeScores(o);
  await writeNpy(o.out, { dtype: 'float64', shape: [scores.length], data: scores });
  let [min, max] = [Infinity, -Infinity];
  for (const v of scores) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const summary = { method: o.method, n: scores.length, min, max, out: o.out };
  if (o.json) printJson(summary);
  else console.log(`${o.method}: ${summary.n} scores in [${summary.min.toPrecision(4)}, ${summary.max.toPrecision(4)}] → ${o.out}`);
}
