// Shared pieces of the detector classes: run options, input checks, the unfitted error.
import { resolveBackend, type BackendName } from '../../backend.js';
import type { BackendId } from '../../../binding.js';
import { fail, NcodError } from '../../errors.js';
import { checkFloat32 } from '../../validate.js';

export interface DetectorOptions {
  backend?: BackendName;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export function backendId(options: DetectorOptions | undefined): BackendId {
  return resolveBackend(options?.backend);
}

export function notFitted(name: string): never {
  throw new NcodError('ERR_INVALID_ARGUMENT', `${name}.score: expected a fitted detector, got one without fit()`);
}

/** Rows of a row-major Float32Array with `dim` columns; ERR_SHAPE when the length does not divide. */
export function rowsOf(what: string, value: unknown, dim: number): { array: Float32Array; rows: number } {
  const array = checkFloat32(what, value);
  if (array.length === 0 || array.length % dim !== 0) {
    fail('ERR_SHAPE', what, `a non-empty multiple of dim = ${dim} elements`, `${array.length} elements`);
  }
  return { array, rows: array.length / dim };
}
