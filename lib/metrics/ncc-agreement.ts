// NC4's second pass for streamed data (the NcAccumulator's finalize leaves nc4_ncc_agreement null: it needs every
// sample against the final class means). Finalise the first pass for the means, then count batch by batch:
//   agreement = Σ_batches nccAgreementCount(batch, means, W, b, C) / N.
import { withCancelFlag } from '../abort.js';
import { pickBackend, type BackendName } from '../backend.js';
import { describe, fail } from '../errors.js';
import { native } from '../native.js';
import { checkFloat32, checkInteger, type FloatArray } from '../validate.js';

export interface NccAgreementOptions {
  backend?: BackendName;
  /** Checked while the batch is processed: an aborted signal rejects with ERR_ABORTED. */
  signal?: AbortSignal;
}

/**
 * The number of rows of one batch (rows × dim, row-major) whose nearest class mean, argmin_c ‖x − μ_c‖ (means:
 * float64, numClasses × dim), is the classifier's argmax of x Wᵀ + b (weights numClasses × dim, bias numClasses or
 * null); the first maximum wins in both, as in ncMetrics. dim is means.length / numClasses.
 */
export async function nccAgreementCount(
  batchFeatures: FloatArray,
  means: Float64Array,
  weights: FloatArray,
  bias: FloatArray | null | undefined,
  numClasses: number,
  options: NccAgreementOptions = {},
): Promise<number> {
  const C = checkInteger('numClasses', numClasses, 1, 1 << 20);
  if (!(means instanceof Float64Array)) fail('ERR_DTYPE', 'means', 'a Float64Array', describe(means));
  const dim = means.length / C;
  if (!Number.isInteger(dim) || dim < 1) fail('ERR_SHAPE', 'means', `numClasses (${C}) × dim elements`, `${means.length} elements`);
  const features = checkFloat32('features', batchFeatures);
  if (features.length % dim !== 0) fail('ERR_SHAPE', 'features', `whole rows of dim ${dim}`, `${features.length} elements`);
  const w = checkFloat32('weights', weights);
  if (w.length !== C * dim) fail('ERR_SHAPE', 'weights', `${C}×${dim} elements (numClasses × dim)`, `${w.length} elements`);
  const b = bias === null || bias === undefined ? null : checkFloat32('bias', bias);
  if (b && b.length !== C) fail('ERR_SHAPE', 'bias', `${C} elements (numClasses)`, `${b.length} elements`);
  const backend = pickBackend(options.backend);
  const rows = features.length / dim;
  return withCancelFlag(options.signal, (cancelFlag) =>
    native().nccAgreementCount({ features, rows, dim, means, weights: w, bias: b, classes: C, backend, cancelFlag }),
  );
}
