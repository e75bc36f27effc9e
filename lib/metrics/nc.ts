// Neural Collapse metrics (METHOD.md §4) from features in memory: two native passes, no d×d matrix.
import type { RawNcMetrics } from '../../binding.js';
import { ncMetricsFromBatches, type NcStreamOptions } from './nc-stream.js';
import { withCancelFlag } from '../abort.js';
import { pickBackend, type BackendName } from '../backend.js';
import { describe, fail } from '../errors.js';
import { native } from '../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';

/** The metrics, all computed natively from one set of sufficient statistics (native/core/nc_metrics.h). */
export type NcMetrics = RawNcMetrics;

/**
 * The metric keys of NcMetrics, in report order (n, dim, classes and rank are counts, not metrics): the one list
 * that `ncod metrics`, its table, `ncod bench ood` and the reference tests go by.
 */
export const NC_METRIC_KEYS = [
  'nc1',
  'nc1_quotient',
  'nc1_cdnv',
  'nc2_equinorm_means',
  'nc2_equiangularity_means',
  'nc2_etf_error_means',
  'nc2_equinorm_weights',
  'nc2_etf_error_weights',
  'gnc2_hyperspherical_uniformity',
  'nc3_self_duality',
  'nc3_papyan',
  'unc3_uniform_duality',
  'nc4_ncc_agreement',
  'nc4_bias_relation',
  'nc5_ood_orthogonality',
] as const satisfies readonly (keyof NcMetrics)[];

export interface NcMetricsOptions {
  /** N×d, row-major (Float64Array is converted to float32). */
  features: FloatArray;
  /** N labels in [0, numClasses): any integer typed array. */
  labels: IntegerArray;
  numClasses: number;
  /** Inferred from features.length / labels.length when omitted. */
  dim?: number;
  /** Classifier weights, C×d row-major (e.g. a linear probe's): enables NC2 (weights), NC3, NC4. */
  weights?: FloatArray;
  /** Classifier bias (C); zero when omitted. */
  bias?: FloatArray;
  /** OOD features (M×d): enables NC5. */
  oodFeatures?: FloatArray;
  /** μ_G as the sample-weighted mean instead of the mean of the class means (default false). */
  weightedGlobalMean?: boolean;
  /** Singular values of M̃ below rankTolerance·s_max count as zero; default max(d, C)·ε. */
  rankTolerance?: number;
  backend?: BackendName;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * NC metrics of features in memory (two native passes, no d×d matrix), or of `batches` streamed from files or a
 * generator (one pass of exact float64 moments, a second for NC4's agreement; see nc-stream.ts).
 */
export async function ncMetrics(options: NcMetricsOptions | NcStreamOptions): Promise<NcMetrics> {
  if (options && typeof options === 'object' && 'batches' in options) return ncMetricsFromBatches(options);
  const features = checkFloat32('features', options?.features);
  const labels = checkInt32('labels', options.labels);
  const numClasses = checkInteger('numClasses', options.numClasses, 2, 1 << 20);
  const { rows, dim } = matrixShape('features', features.length, labels.length, options.dim);
  const weights = options.weights === undefined ? null : checkFloat32('weights', options.weights);
  const bias = options.bias === undefined ? null : checkFloat32('bias', options.bias);
  if (weights && weights.length !== numClasses * dim) {
    fail('ERR_SHAPE', 'weights', `${numClasses} × ${dim} elements (numClasses × dim)`, `${weights.length} elements`);
  }
  if (bias && !weights) fail('ERR_INVALID_ARGUMENT', 'bias', 'weights to go with it', 'bias without weights');
  if (bias && bias.length !== numClasses) fail('ERR_SHAPE', 'bias', `${numClasses} elements`, `${bias.length} elements`);
  const ood = options.oodFeatures === undefined ? null : checkFloat32('oodFeatures', options.oodFeatures);
  if (ood && (ood.length === 0 || ood.length % dim !== 0)) {
    fail('ERR_SHAPE', 'oodFeatures', `a non-empty multiple of dim = ${dim} elements`, `${ood.length} elements`);
  }
  const tolerance = options.rankTolerance ?? -1;
  if (typeof tolerance !== 'number' || !(tolerance < 1)) {
    fail('ERR_INVALID_ARGUMENT', 'rankTolerance', 'a number in [0, 1)', describe(tolerance));
  }
  const backend = pickBackend(options.backend);
  return withCancelFlag(options.signal, (cancelFlag) =>
    native().ncMetrics({
      features,
      labels,
      rows,
      dim,
      numClasses,
      weights,
      bias,
      oodFeatures: ood,
      oodRows: ood ? ood.length / dim : 0,
      weightedGlobalMean: options.weightedGlobalMean ?? false,
      rankTolerance: tolerance,
      backend,
      cancelFlag,
      onProgress: options.onProgress,
    }),
  );
}

export interface Layer {
  name: string;
  features: FloatArray;
  weights?: FloatArray;
  bias?: FloatArray;
  oodFeatures?: FloatArray;
}

/** The same metrics for each layer of one network (shared labels), one row per layer. */
export async function ncMetricsByLayer(
  layers: Layer[],
  common: Omit<NcMetricsOptions, 'features' | 'weights' | 'bias' | 'oodFeatures' | 'dim'>,
): Promise<(NcMetrics & { layer: string })[]> {
  const rows: (NcMetrics & { layer: string })[] = [];
  for (const layer of layers) {
    const { name, ...arrays } = layer;
    rows.push({ layer: name, ...(await ncMetrics({ ...common, ...arrays })) });
  }
  return rows;
}
