// Fitting a detector by its method name from in-memory arrays: the one place that maps a method and its
// hyperparameters to a fitted detector, for `ncod fit`, `ncod score --method` and `ncod bench ood`.
import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import { detectors } from './detectors.js';
import type { Detector } from './detectors/common.js';
import type { HeadInput } from './detectors/state.js';
import { LOGIT_METHODS, METHODS, type Method } from './method-names.js';

export interface Hyperparameters {
  temperature?: number;
  gamma?: number;
  topM?: number;
  k?: number;
  principalDim?: number;
  percentile?: number;
  alpha?: number;
  ridge?: number;
}

export interface MethodFitData {
  /** ID (training) features, N×dim; statistics-based methods need them. */
  features?: Float32Array;
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
  if (LOGIT_METHODS.includes(method)) return { features: false, labels: false, head: false };
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
  hyper: Hyperparameters & { backend?: BackendName },
  names: InputNames,
): Promise<Detector<Float32Array>> {
  const backend = { backend: hyper.backend };
  const features = () => need(data.features, names.features, method);
  const head = () => need(data.head, names.head, method);
  const withHead = () => ({ features: features(), ...head() });
  switch (method) {
    case 'msp':
    case 'maxlogit':
    case 'energy':
    case 'gen': {
      const detector =
        method === 'msp'
          ? detectors.msp(backend)
          : method === 'maxlogit'
            ? detectors.maxLogit(backend)
            : method === 'energy'
              ? detectors.energy({ ...backend, temperature: hyper.temperature })
              : detectors.gen({ ...backend, gamma: hyper.gamma, topM: hyper.topM });
      return data.head ? detector.fit(data.head) : detector.fit({ numClasses: need(data.logitWidth, names.logitWidth, method) });
    }
    case 'react':
      return detectors.react({ ...backend, temperature: hyper.temperature, percentile: hyper.percentile }).fit(withHead());
    case 'mahalanobis':
    case 'relative-mahalanobis':
    case 'mahalanobis++':
    case 'relative-mahalanobis++': {
      const options = { ...backend, ridge: hyper.ridge, l2Normalize: method.endsWith('++') };
      const detector = method.startsWith('relative-') ? detectors.relativeMahalanobis(options) : detectors.mahalanobis(options);
      const labels = need(data.labels, names.labels, method);
      return detector.fit({ features: features(), labels, numClasses: need(data.numClasses, names.labels, method), dim: data.dim });
    }
    case 'knn':
      return detectors.knn({ ...backend, k: hyper.k }).fit({ features: features(), dim: need(data.dim, names.features, method) });
    case 'vim':
    case 'residual':
    case 'neco': {
      const options = { ...backend, principalDim: need(hyper.principalDim, names.principalDim, method) };
      const detector = method === 'vim' ? detectors.vim(options) : method === 'residual' ? detectors.residual(options) : detectors.neco(options);
      return detector.fit(withHead());
    }
    case 'fdbd':
    case 'nci': {
      const detector = method === 'fdbd' ? detectors.fdbd(backend) : detectors.nci({ ...backend, alpha: hyper.alpha });
      return detector.fit(withHead());
    }
  }
  return fail('ERR_INVALID_ARGUMENT', 'method', METHODS.join(', '), String(method));
}
