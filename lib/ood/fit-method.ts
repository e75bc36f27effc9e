// Fitting a detector by its method name from in-memory arrays or batches: the one place that maps a method and its
// hyperparameters to a fitted detector, for `ncod fit`, `ncod score --method` and `ncod bench ood`.
import type { BackendName } from '../backend.js';
import type { BatchSource } from '../data/batches.js';
import { fail } from '../errors.js';
import { detectors } from './detectors.js';
import type { Detector } from './detectors/common.js';
import type { HeadInput } from './detectors/state.js';
import { isLogitMethod, METHODS, type Covariance, type Method } from './method-names.js';

export interface Hyperparameters {
  temperature?: number;
  gamma?: number;
  topM?: number;
  k?: number;
  principalDim?: number;
  percentile?: number;
  alpha?: number;
  ridge?: number;
  /** The Mahalanobis variants: 'ridge' (default) or 'pinv'. */
  covariance?: Covariance;
}

export interface MethodFitData {
  /** ID (training) features, N×dim; statistics-based methods need them (or `batches`). */
  features?: Float32Array;
  /**
   * The same rows (with labels where the method needs them) as batches, e.g. a file source: every statistics-based
   * fit then holds one batch at a time (KNN appends each batch to its native bank, which has no size limit).
   */
  batches?: BatchSource;
  dim?: number;
  labels?: Int32Array;
  numClasses?: number;
  head?: HeadInput;
  /** For logit methods without a head: the logit width they will score. */
  logitWidth?: number;
}

/** The names of the inputs, as the caller's user gives them, for "needs" messages. */
export interface InputNames {
  features: string;
  labels: string;
  head: string;
  principalDim: string;
  logitWidth: string;
}

/** Which inputs a method needs: the bench uses it to pick the detectors a layer can run. */
export function methodNeeds(method: Method): { features: boolean; labels: boolean; head: boolean } {
  if (isLogitMethod(method)) return { features: false, labels: false, head: false };
  const labels = method.includes('mahalanobis');
  return { features: true, labels, head: !labels && method !== 'knn' };
}

function need<T>(value: T | undefined, what: string, method: string): T {
  if (value === undefined) fail('ERR_INVALID_ARGUMENT', what, `a value (method ${method} needs it)`, 'none');
  return value;
}

/** A fitted (or, for logit methods, bound) detector of `method`. */
export async function fitMethod(
  method: Method,
  data: MethodFitData,
  hyper: Hyperparameters & { backend?: BackendName; signal?: AbortSignal },
  names: InputNames,
): Promise<Detector<Float32Array>> {
  const backend = { backend: hyper.backend };
  const run = { signal: hyper.signal };
  const features = () => need(data.features, names.features, method);
  const rows = () => (data.batches !== undefined ? { batches: data.batches } : { features: features() });
  const head = () => need(data.head, names.head, method);
  const withHead = () => ({ ...rows(), ...head() });
  switch (method) {
    case 'msp':
    case 'maxlogit':
    case 'energy':
    case 'gen':
    case 'entropy': {
      const detector =
        method === 'msp'
          ? detectors.msp(backend)
          : method === 'maxlogit'
            ? detectors.maxLogit(backend)
            : method === 'energy'
              ? detectors.energy({ ...backend, temperature: hyper.temperature })
              : method === 'entropy'
                ? detectors.entropy({ ...backend, temperature: hyper.temperature })
                : detectors.gen({ ...backend, gamma: hyper.gamma, topM: hyper.topM });
      return data.head ? detector.fit(data.head) : detector.fit({ numClasses: need(data.logitWidth, names.logitWidth, method) });
    }
    case 'react':
      return detectors.react({ ...backend, temperature: hyper.temperature, percentile: hyper.percentile }).fit(withHead(), run);
    case 'mahalanobis':
    case 'relative-mahalanobis':
    case 'mahalanobis++':
    case 'relative-mahalanobis++': {
      const options = { ...backend, ridge: hyper.ridge, covariance: hyper.covariance, l2Normalize: method.endsWith('++') };
      const detector = method.startsWith('relative-') ? detectors.relativeMahalanobis(options) : detectors.mahalanobis(options);
      const numClasses = need(data.numClasses, names.labels, method);
      if (data.batches !== undefined) return detector.fit({ batches: data.batches, numClasses, dim: data.dim }, run);
      return detector.fit({ features: features(), labels: need(data.labels, names.labels, method), numClasses, dim: data.dim }, run);
    }
    case 'knn': {
      const dim = need(data.dim, names.features, method);
      const detector = detectors.knn({ ...backend, k: hyper.k });
      return data.batches !== undefined ? detector.fit({ batches: data.batches, dim }, run) : detector.fit({ features: features(), dim }, run);
    }
    case 'vim':
    case 'residual':
    case 'neco': {
      const options = { ...backend, principalDim: need(hyper.principalDim, names.principalDim, method) };
      const detector = method === 'vim' ? detectors.vim(options) : method === 'residual' ? detectors.residual(options) : detectors.neco(options);
      return detector.fit(withHead(), run);
    }
    case 'fdbd':
    case 'nci': {
      const detector = method === 'fdbd' ? detectors.fdbd(backend) : detectors.nci({ ...backend, alpha: hyper.alpha });
      return detector.fit(withHead(), run);
    }
  }
  return fail('ERR_INVALID_ARGUMENT', 'method', METHODS.join(', '), String(method));
}
