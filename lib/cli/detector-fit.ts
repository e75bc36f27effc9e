// Fitting a detector from files, for `ncod fit` (which saves it) and `ncod score --method` (which scores with it at
// once): one path, so a saved detector scores exactly what `ncod score --method` would.
import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import type { Detector } from '../ood/detectors/common.js';
import { LOGIT_METHODS, METHODS, type Method } from '../ood/method-names.js';
import { loadNpy, toFloatVector, toLabels, toMatrix, type Matrix } from './arrays.js';
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
}

function need<T>(value: T | undefined, option: string, method: string): T {
  if (value === undefined) fail('ERR_INVALID_ARGUMENT', option, `a value (method ${method} needs it)`, 'none');
  return value;
}

export async function readMatrix(path: string | undefined, option: string, method: string): Promise<Matrix> {
  return toMatrix(await loadNpy(need(path, option, method), option), option);
}

/** Labels as int32, with the class count they imply (max + 1). */
async function readLabels(path: string | undefined, option: string, method: string): Promise<{ labels: Int32Array; numClasses: number }> {
  const labels = toLabels(await loadNpy(need(path, option, method), option), option);
  let max = -1;
  for (const v of labels) max = v > max ? v : max;
  return { labels, numClasses: max + 1 };
}

/** A fitted (or, for logit methods, bound) detector of `method` from the files. */
export async function fitDetector(
  method: Method,
  flags: HyperparameterFlags & { backend: BackendName },
  files: FitFiles,
  names: FlagNames,
): Promise<Detector<Float32Array>> {
  const backend = { backend: flags.backend };
  const head = async () => {
    const w = await readMatrix(files.weights, '--weights', method);
    const bias = files.bias ? toFloatVector(await loadNpy(files.bias, '--bias'), '--bias') : undefined;
    return { weights: w.data, bias, numClasses: w.rows, dim: w.cols };
  };
  const fitFeatures = () => readMatrix(files.features, names.features, method);
  const sameDim = (x: Matrix, h: { dim: number }) => {
    if (x.cols !== h.dim) fail('ERR_SHAPE', names.features, `${h.dim} columns (as --weights)`, `${x.cols}`);
  };

  if (LOGIT_METHODS.includes(method)) {
    const detector =
      method === 'msp'
        ? detectors.msp(backend)
        : method === 'maxlogit'
          ? detectors.maxLogit(backend)
          : method === 'energy'
            ? detectors.energy({ ...backend, temperature: flags.temperature })
            : detectors.gen({ ...backend, gamma: flags.gamma, topM: flags.topM });
    if (files.weights) return detector.fit(await head());
    return detector.fit({ numClasses: need(files.numClasses, '--weights (or the logit width)', method) });
  }
  switch (method) {
    case 'react': {
      const [x, h] = [await fitFeatures(), await head()];
      sameDim(x, h);
      return detectors.react({ ...backend, temperature: flags.temperature, percentile: flags.percentile }).fit({ features: x.data, ...h });
    }
    case 'mahalanobis':
    case 'relative-mahalanobis': {
      const x = await fitFeatures();
      const { labels, numClasses } = await readLabels(files.labels, names.labels, method);
      const options = { ...backend, ridge: flags.ridge };
      const detector = method === 'mahalanobis' ? detectors.mahalanobis(options) : detectors.relativeMahalanobis(options);
      return detector.fit({ features: x.data, labels, numClasses, dim: x.cols });
    }
    case 'knn': {
      const x = await fitFeatures();
      return detectors.knn({ ...backend, k: flags.k }).fit({ features: x.data, dim: x.cols });
    }
    case 'vim':
    case 'residual':
    case 'neco': {
      const options = { ...backend, principalDim: need(flags.principalDim, '--principal-dim', method) };
      const detector = method === 'vim' ? detectors.vim(options) : method === 'residual' ? detectors.residual(options) : detectors.neco(options);
      const [x, h] = [await fitFeatures(), await head()];
      sameDim(x, h);
      return detector.fit({ features: x.data, ...h });
    }
    case 'fdbd':
    case 'nci': {
      const detector = method === 'fdbd' ? detectors.fdbd(backend) : detectors.nci({ ...backend, alpha: flags.alpha });
      const [x, h] = [await fitFeatures(), await head()];
      sameDim(x, h);
      return detector.fit({ features: x.data, ...h });
    }
  }
  return fail('ERR_INVALID_ARGUMENT', '--method', METHODS.join(', '), method);
}
