// Fitting a detector by its method name from in-memory arrays or batches, for `ncod fit`, `ncod score --method` and
// `ncod bench ood`: each method's spec (declared beside the detector, collected in detectors.ts METHOD_SPECS) says
// what it needs and how it is fitted.
import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import type { Detector } from './detectors/common.js';
import { METHOD_SPECS } from './detectors.js';
import { METHODS, type Method } from './method-names.js';
import { MethodInputs, type Hyperparameters, type InputNames, type MethodFitData, type MethodSpec } from './method-spec.js';

function specOf(method: Method): MethodSpec {
  const spec = METHOD_SPECS[method] as MethodSpec | undefined;
  if (spec === undefined) fail('ERR_INVALID_ARGUMENT', 'method', METHODS.join(', '), String(method));
  return spec;
}

/** Which inputs a method needs: the bench uses it to pick the detectors a layer can run. */
export function methodNeeds(method: Method): MethodSpec['needs'] {
  return specOf(method).needs;
}

/** A fitted (or, for logit methods, bound) detector of `method`. */
export async function fitMethod(
  method: Method,
  data: MethodFitData,
  hyper: Hyperparameters & { backend?: BackendName; signal?: AbortSignal },
  names: InputNames,
): Promise<Detector<Float32Array>> {
  const { backend, signal, ...hyperparameters } = hyper;
  return specOf(method).fit(new MethodInputs(method, data, names), hyperparameters, { backend }, { signal });
}
