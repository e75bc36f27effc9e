/**
 * The raw native module exactly as native/binding exports it: typed arrays, and one options object per call
 * (native/binding/options_reader.h). Only lib/native.ts loads it; users call the public API in lib/ instead.
 */
/** A backend as the native registry names it (native/core/backends.cpp); lib/backend.ts checks that lib/backend-names.ts BACKENDS is the same set. */
export type Backend = 'cpu' | 'cuda';

/** What every raw call that runs on a worker thread accepts. */
export interface RawCallControl {
  /** An Int32Array on a SharedArrayBuffer; non-zero aborts the call (ERR_ABORTED). */
  cancelFlag?: Int32Array;
  onProgress?: (fraction: number) => void;
}

export interface RawBackendStatus {
  name: Backend;
  available: boolean;
  /** Why the backend is unavailable; null when available. */
  reason: string | null;
  /** The device description when available (CUDA), else null. */
  device: string | null;
}

export interface RawBlasInfo {
  library: string;
  core: string;
  threading: 'pthreads' | 'openmp' | 'sequential' | 'unknown';
  blasThreads: number;
  openmpThreads: number;
  /** Parallel regions that ran with fewer threads than asked because the system could not start more then. */
  reducedTeams: number;
}

export type SimdLevelName = 'portable' | 'avx2' | 'avx512';

export interface RawSimdInfo {
  /** The level the hand-written CPU kernels use: the best the CPU supports, capped by NCOD_SIMD. */
  level: SimdLevelName;
  /** Every level this CPU supports, lowest first. */
  supported: SimdLevelName[];
  /** Whether the KNN filter uses AVX512-BF16 products. */
  bf16: boolean;
  /** Why NCOD_SIMD was not understood, or null. */
  error: string | null;
}

export interface RawClassStats {
  counts: Float64Array;
  sums: Float64Array;
  means: Float64Array;
  scatter: Float64Array | null;
}

export interface NativeBinding {
  /** Makes native code throw instances of this class: `new errorClass(code, message)`. */
  setErrorClass(errorClass: new (code: string, message: string) => Error): void;
  version(): string;
  backends(): RawBackendStatus[];
  blasInfo(): RawBlasInfo;
  simdInfo(): RawSimdInfo;
  setThreads(threads: number): void;
  classStats(options: RawClassStatsOptions): Promise<RawClassStats>;
}

export interface RawClassStatsOptions extends RawCallControl {
  /** rows×dim, row-major. */
  features: Float32Array;
  labels: Int32Array;
  rows: number;
  dim: number;
  numClasses: number;
  withScatter: boolean;
  allowEmptyClasses: boolean;
  backend: Backend;
}

export interface RawNcMetrics {
  n: number;
  dim: number;
  classes: number;
  /** Numerical rank of Σ_B (of the centred class means) used for NC1. */
  rank: number;
  nc1: number | null;
  nc1_quotient: number;
  nc1_cdnv: number;
  nc2_equinorm_means: number;
  nc2_equiangularity_means: number;
  nc2_etf_error_means: number;
  nc2_equinorm_weights: number | null;
  nc2_etf_error_weights: number | null;
  nc3_self_duality: number | null;
  nc3_papyan: number | null;
  nc4_ncc_agreement: number | null;
  nc4_bias_relation: number | null;
  nc5_ood_orthogonality: number | null;
  /** GNC2 and UNC3 of Wu & Papyan (NeurIPS 2024), from the centred class means (native/core/nc_uniformity.h documents both); null where undefined. */
  gnc2_hyperspherical_uniformity: number | null;
  /** Null without weights. */
  unc3_uniform_duality: number | null;
}

export interface NativeBinding {
  ncMetrics(options: RawNcMetricsOptions): Promise<RawNcMetrics>;
}

/** The classifier and the options finalize() shares with ncMetrics. */
export interface RawNcFinalizeOptions {
  /** numClasses×dim. */
  weights?: Float32Array | null;
  /** numClasses. */
  bias?: Float32Array | null;
  weightedGlobalMean: boolean;
  /** Below 1; negative (the default) for the automatic tolerance. */
  rankTolerance?: number;
  cancelFlag?: Int32Array;
}

export interface RawNcMetricsOptions extends RawNcFinalizeOptions, RawCallControl {
  features: Float32Array;
  labels: Int32Array;
  rows: number;
  dim: number;
  numClasses: number;
  /** oodRows×dim; oodRows is read only with it. */
  oodFeatures?: Float32Array | null;
  oodRows?: number;
  backend: Backend;
}

export interface RawNcAccumulatorState {
  dim: number;
  classes: number;
  /** The shift K the moments are taken about (empty before the first batch). */
  shift: Float64Array;
  counts: Float64Array;
  /** C×d: Σ (x − K) per class. */
  sums: Float64Array;
  /** C: Σ ‖x − K‖² per class. */
  sqNorms: Float64Array;
  /** d×d: Σ (x − K)(x − K)ᵀ over all samples. */
  scatter: Float64Array;
  oodCount: number;
  oodSums: Float64Array;
}

export interface RawNcAccumulator {
  add(options: { features: Float32Array; labels: Int32Array; rows: number } & RawCallControl): Promise<void>;
  addOod(options: { features: Float32Array; rows: number } & RawCallControl): Promise<void>;
  merge(other: RawNcAccumulator): void;
  /** merge() on a worker thread. */
  mergeAsync(other: RawNcAccumulator): Promise<void>;
  /** withScatter = false: scatter is an empty array (no d×d copy). */
  state(withScatter?: boolean): RawNcAccumulatorState;
  /** state() copied on a worker thread. */
  stateAsync(): Promise<RawNcAccumulatorState>;
  finalize(options: RawNcFinalizeOptions): Promise<RawNcMetrics>;
}

export interface RawNcAccumulatorClass {
  new (options: { dim: number; numClasses: number; backend: Backend }): RawNcAccumulator;
  fromState(options: { state: RawNcAccumulatorState; backend: Backend }): RawNcAccumulator;
}

export interface NativeBinding {
  NcAccumulator: RawNcAccumulatorClass;
}

export interface RawLoss {
  loss: number;
  grad: Float32Array;
}

export interface NativeBinding {
  crossEntropyLs(options: {
    logits: Float32Array;
    labels: Int32Array;
    rows: number;
    classes: number;
    smoothing: number;
    cancelFlag?: Int32Array;
  }): Promise<RawLoss>;
  nnEntropy(options: { features: Float32Array; rows: number; dim: number; scale: number; cancelFlag?: Int32Array }): Promise<RawLoss>;
  etfProjector(options: {
    features: Float32Array;
    rows: number;
    dim: number;
    hiddenWidth: number;
    /** With it, the backward pass too. */
    dz?: Float32Array | null;
    cancelFlag?: Int32Array;
  }): Promise<{ hidden: Float32Array; z: Float32Array; de: Float32Array | null }>;
}

export interface RawMlpConfig {
  /** [input, h1, ..., hK]: K encoder layers (Linear [+ LayerNorm] + ReLU). */
  widths: number[];
  classes: number;
  /** Hidden width of the ETF projector, 0 for none (the baseline). */
  projectorHidden: number;
  /** Each encoder layer Linear → LayerNorm (γ, β after W, b in the parameters) → ReLU; default false. */
  layerNorm?: boolean;
}

export interface RawEpochOptions {
  batch: number;
  alpha: number;
  labelSmoothing: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Optimiser steps taken before this epoch. */
  step: number;
}

export interface RawEpochResult {
  loss: number;
  ce: number;
  entropy: number;
  accuracy: number;
  step: number;
}

export interface NativeBinding {
  /** params, m and v are overwritten when the epoch completes, untouched when it fails or is aborted. */
  trainEpoch(options: RawModelInput & { m: Float32Array[]; v: Float32Array[]; y: Int32Array; order: Int32Array; epoch: RawEpochOptions } & RawCallControl): Promise<RawEpochResult>;
  forwardLayer(options: RawModelInput & { layer: number } & RawCallControl): Promise<Float32Array>;
}

/** A model and a batch of its inputs, as trainEpoch, forwardLayer and mlpGradients take them. */
export interface RawModelInput {
  config: RawMlpConfig;
  params: Float32Array[];
  /** rows × widths[0]. */
  x: Float32Array;
  rows: number;
  backend: Backend;
}

export interface NativeBinding {
  mlpGradients(
    options: RawModelInput & { y: Int32Array; alpha: number; labelSmoothing: number },
  ): Promise<{ ce: number; entropy: number; grads: Float32Array[] }>;
  /**
   * For tests: runs one training kernel (native/core/train_kernels.h) on a backend. Inputs by name in `arrays`,
   * sizes and scalars in `numbers` (per kernel: native/binding/train_kernel_binding.cpp); outputs by name (written
   * outputs start as NaN, or −1 for Int32Array).
   */
  trainKernel(options: {
    backend: Backend;
    kernel: RawTrainKernelName;
    arrays: Record<string, Float32Array | Int32Array>;
    numbers: Record<string, number>;
  }): Promise<Record<string, Float32Array | Int32Array | number>>;
}

export type RawTrainKernelName =
  | 'sgemm'
  | 'biasActivation'
  | 'activationBackward'
  | 'adamw'
  | 'gatherRows'
  | 'add'
  | 'layerNormForward'
  | 'layerNormBackward'
  | 'crossEntropyLs'
  | 'nnEntropy'
  | 'etfForward'
  | 'etfBackward';

/** A fitted whitened-distance model (float64): distances ‖L(x − shift) − centres_c‖², L is dims×dim. */
export interface RawWhitenedModel {
  dim: number;
  dims: number;
  count: number;
  shift: Float64Array;
  whitening: Float64Array;
  centres: Float64Array;
}

/** The logit scores by name (native/core/detectors.h kLogitScoreNames; lib/ood/method-names.ts LOGIT_METHODS). */
export type RawLogitScoreName = 'msp' | 'maxlogit' | 'energy' | 'gen' | 'entropy';

/** What a logit score takes besides its inputs: GEN's γ (default 0.1) and M (default min(100, C)), the temperature (1). */
export interface RawLogitSpec {
  kind: RawLogitScoreName;
  temperature?: number;
  gamma?: number;
  topM?: number;
}

/**
 * A linear head z = clip(x) Wᵀ + b in native memory (native/binding/linear_head_binding.cpp): copied and checked once,
 * prepared once per backend (CUDA keeps it on the device) for every score through it.
 */
export interface RawLinearHead {
  /** The score of each row's logits (features rows×dim float32). */
  score(options: RawLogitSpec & { features: Float32Array; rows: number; backend?: RawBackendName } & RawCallControl): Promise<Float64Array>;
  dim(): number;
  classes(): number;
  /** Frees the head now (calls in flight finish first); later calls, and passing it to a score, throw ERR_INVALID_ARGUMENT. */
  dispose(): void;
}

export interface RawLinearHeadClass {
  /** weights classes×dim float32, bias classes or null; clip: ReAct's threshold (default none). */
  new (options: { weights: Float32Array; bias?: Float32Array | null; classes: number; clip?: number }): RawLinearHead;
}

/** A RawWhitenedModel in native memory (native/binding/whitened_centres_binding.cpp), prepared once per backend. */
export interface RawWhitenedCentres {
  dim(): number;
  /** Frees the model now (calls in flight finish first). */
  dispose(): void;
}

export interface RawWhitenedCentresClass {
  new (model: RawWhitenedModel): RawWhitenedCentres;
}

export interface NativeBinding {
  /** The score of each logit row (rows×classes float32); NaN for a row holding a NaN or ±inf (then ERR_NOT_FINITE). */
  scoreLogits(options: RawLogitSpec & { logits: Float32Array; rows: number; classes: number; backend?: RawBackendName } & RawCallControl): Promise<Float64Array>;
  mahalanobisFit(
    options: { features: Float32Array; labels: Int32Array; rows: number; dim: number } & RawMahalanobisFitOptions & RawCallControl,
  ): Promise<{ classes: RawWhitenedModel; background: RawWhitenedModel | null }>;
  /** −min_c MD_c(x) (+ the background's MD_0(x) when given). */
  mahalanobisScore(
    options: { features: Float32Array; rows: number; classes: RawWhitenedCentres; background?: RawWhitenedCentres | null; backend?: RawBackendName } & RawCallControl,
  ): Promise<Float64Array>;
  /**
   * ViM (energy − α·√p), Residual (−√p) or NECO (√(p/‖z‖²)·maxLogit) in one call: p = ‖L (x − shift)‖² for the
   * projection model (one centre at the origin), z = (x − shift)/scale (native/core/detectors.h SubspaceScore).
   */
  subspaceScores(options: {
    features: Float32Array;
    rows: number;
    projection: RawWhitenedCentres;
    /** Of the projection's dim; read by ViM and by NECO with multiplyMaxLogit. */
    head: RawLinearHead;
    kind: 'vim' | 'residual' | 'neco';
    /** ViM only. */
    alpha?: number;
    /** NECO only: the standardisation (d each). */
    shift?: Float64Array;
    scale?: Float64Array;
    /** NECO only; default true. */
    multiplyMaxLogit?: boolean;
    backend?: RawBackendName;
    cancelFlag?: Int32Array;
    onProgress?: (fraction: number) => void;
  }): Promise<Float64Array>;
  LinearHead: RawLinearHeadClass;
  WhitenedCentres: RawWhitenedCentresClass;
  /** How many prepared objects (Backend::prepare_*) fitted state has made in this process: tests prove "prepared once". */
  preparedStateCount(): number;
  /** A KNN detector's bank in native memory (native/binding/knn_bank_binding.cpp). */
  KnnBank: RawKnnBankClass;
}

/** What the two Mahalanobis fits (from rows, from moments) share. */
export interface RawMahalanobisFitOptions {
  numClasses: number;
  relative: boolean;
  /** 'ridge' (the default) or 'pinv' (native/core/detectors.h kCovarianceNames). */
  covariance?: RawCovarianceName;
  /** The ridge's scale (1e-6 when absent); 'ridge' only: refused with 'pinv'. */
  ridge?: number;
  backend?: RawBackendName;
}

/** What the two subspace fits (from rows, from moments) share. */
export interface RawSubspaceFitOptions {
  /** A classes×dim head; bias (classes) only with weights. */
  weights?: Float32Array | null;
  bias?: Float32Array | null;
  classes?: number;
  standardise: boolean;
  backend?: RawBackendName;
}

/** The backend of the detector bindings: the registry's names. */
export type RawBackendName = Backend;

/** How mahalanobisFit inverts the covariance, as native/core/detectors.h kCovarianceNames spells it (lib/ood/method-names.ts COVARIANCES). */
export type RawCovarianceName = 'ridge' | 'pinv';

/** A KNN bank in native memory: the fit rows L2-normalised (all-zero rows stay zero), prepared once for scoring. */
export interface RawKnnBank {
  /**
   * Appends rows (rows×dim float32), checked finite and L2-normalised (as they are with `normalize: false`: a saved
   * bank, already normalised); any number of calls, any total size.
   */
  append(options: { features: Float32Array; rows: number; normalize?: boolean; cancelFlag?: Int32Array }): Promise<void>;
  /** Allocates room for `rows` more rows at once, so appends up to that total never reallocate (and copy) the bank. */
  reserve(rows: number): void;
  /** Throws ERR_INVALID_ARGUMENT unless 1 ≤ k ≤ rows(): the one check of k. */
  checkK(k: number): void;
  /** The k-th largest cosine similarity of each query row to the bank. */
  score(options: {
    features: Float32Array;
    rows: number;
    k: number;
    backend?: RawBackendName;
    cancelFlag?: Int32Array;
    onProgress?: (fraction: number) => void;
  }): Promise<Float64Array>;
  /** A copy of normalised rows [start, start + rows). */
  read(options: { start: number; rows: number }): Float32Array;
  rows(): number;
  dim(): number;
  /** Frees the bank now (calls in flight finish first); later calls throw ERR_INVALID_ARGUMENT. */
  dispose(): void;
}

export interface RawKnnBankClass {
  new (options: { dim: number }): RawKnnBank;
}

export interface RawSubspace {
  /** −pinv(W)·b with a head, else the sample mean (d). */
  shift: Float64Array;
  /** Per-feature population std when standardised (1 for constant features), else ones (d). */
  scale: Float64Array;
  /** Descending (d). */
  eigenvalues: Float64Array;
  /** d×d, row i = eigenvector i. */
  eigenvectors: Float64Array;
}

export interface NativeBinding {
  subspaceFit(options: { features: Float32Array; rows: number; dim: number } & RawSubspaceFitOptions & RawCallControl): Promise<RawSubspace>;
}

export interface NativeBinding {
  /**
   * The Mahalanobis model from moments about a shift K (an NcAccumulator state's shift, counts, sums and scatter):
   * the same model mahalanobisFit gives on the rows they summarise. Every class needs a sample (ERR_EMPTY_CLASS).
   */
  mahalanobisFitMoments(
    options: {
      shift: Float64Array;
      counts: Float64Array;
      /** numClasses×dim: Σ (x − K) per class. */
      sums: Float64Array;
      /** dim×dim: Σ (x − K)(x − K)ᵀ over all rows. */
      scatter: Float64Array;
      dim: number;
    } & RawMahalanobisFitOptions,
  ): Promise<{ classes: RawWhitenedModel; background: RawWhitenedModel | null }>;
  /** subspaceFit from one-class moments about a shift K: count rows, sums = Σ (x − K) (dim), scatter dim×dim. */
  subspaceFitMoments(
    options: { shift: Float64Array; count: number; sums: Float64Array; scatter: Float64Array; dim: number } & RawSubspaceFitOptions,
  ): Promise<RawSubspace>;
  /**
   * NC4's second pass over one batch: the number of rows whose nearest class mean (means: float64 classes×dim) is
   * the classifier's argmax (x Wᵀ + b); the first maximum wins in both.
   */
  nccAgreementCount(
    options: {
      features: Float32Array;
      rows: number;
      dim: number;
      means: Float64Array;
      weights: Float32Array;
      bias?: Float32Array | null;
      classes: number;
      backend?: RawBackendName;
      cancelFlag?: Int32Array;
    },
  ): Promise<number>;
}

export interface NativeBinding {
  /** fDBD or NCI scores through a fitted head and the ID mean (Float64Array of the head's dim); see native/core/detectors.h. */
  decisionScores(
    options: { features: Float32Array; rows: number; head: RawLinearHead; mean: Float64Array; kind: 'fdbd' | 'nci'; alpha?: number; backend?: RawBackendName } & RawCallControl,
  ): Promise<Float64Array>;
}
