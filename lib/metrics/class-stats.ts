// Per-class counts, float64 sums and means, and the pooled within-class scatter, computed natively off the
// JS thread on the chosen backend. Inputs are used in place, never copied.
import { withCancelFlag } from '../abort.js';
import { pickBackend, type BackendName } from '../backend.js';
import { native } from '../native.js';
import { checkFloat32, checkInt32, checkInteger, matrixShape, type FloatArray, type IntegerArray } from '../validate.js';

export interface ClassStatsOptions {
  numClasses: number;
  /** Feature dimension; inferred from features.length / labels.length when omitted. */
  dim?: number;
  /** Also compute the d×d within-class scatter Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ (O(N·d²)). */
  scatter?: boolean;
  /** Allow classes without samples (their means are NaN); otherwise ERR_EMPTY_CLASS. */
  allowEmptyClasses?: boolean;
  backend?: BackendName;
  signal?: AbortSignal;
  /** Called with the completed fraction in [0, 1], at most every 100 ms. */
  onProgress?: (fraction: number) => void;
}

export interface ClassStats {
  n: number;
  dim: number;
  numClasses: number;
  /** Samples per class (C). */
  counts: Float64Array;
  /** Row-major C×d float64 sums. */
  sums: Float64Array;
  /** Row-major C×d class means. */
  means: Float64Array;
  /** Row-major d×d within-class scatter (not divided by N), or null when not requested. */
  scatter: Float64Array | null;
}

export async function classStats(
  featuresIn: FloatArray,
  labelsIn: IntegerArray,
  options: ClassStatsOptions,
): Promise<ClassStats> {
  const features = checkFloat32('features', featuresIn);
  const labels = checkInt32('labels', labelsIn);
  const numClasses = checkInteger('numClasses', options?.numClasses, 1, 1 << 24);
  const { rows, dim } = matrixShape('features', features.length, labels.length, options.dim);
  const backend = pickBackend(options.backend);
  const raw = await withCancelFlag(options.signal, (cancelFlag) =>
    native().classStats({
      features,
      labels,
      rows,
      dim,
      numClasses,
      withScatter: options.scatter ?? false,
      allowEmptyClasses: options.allowEmptyClasses ?? false,
      backend,
      cancelFlag,
      onProgress: options.onProgress,
    }),
  );
  return { n: rows, dim, numClasses, ...raw };
}
