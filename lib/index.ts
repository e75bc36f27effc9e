// The public API: everything the README shows, plus the data readers and writers. A package test imports the
// packed package and runs every README code block against it, so a name missing here fails there.
export { NcodError, ErrorCodes, type ErrorCode } from './errors.js';
export { backends, blasInfo, setThreads, simdInfo, type BackendName, type BackendStatus, type BlasInfo, type SimdInfo } from './backend.js';
export { classStats, type ClassStats, type ClassStatsOptions } from './metrics/class-stats.js';
export { NcAccumulator, type NcAccumulatorState } from './metrics/nc-accumulator.js';
export { nccAgreementCount, type NccAgreementOptions } from './metrics/ncc-agreement.js';
export type { BatchSource, FeatureBatch } from './data/batches.js';
export { NC_METRIC_KEYS, ncMetrics, ncMetricsByLayer, type Layer, type NcMetrics, type NcMetricsOptions } from './metrics/nc.js';
export type { NcStreamOptions } from './metrics/nc-stream.js';
export { version } from './version.js';
export type { FloatArray, IntegerArray } from './validate.js';
export { crossEntropyLs, etfProjector, nnEntropy, type LossWithGradient } from './train/kernels.js';
export { Trainer, type EpochStats, type LayerName, type TrainerOptions, type TrainerState } from './train/trainer.js';
export { loadCheckpoint, saveCheckpoint } from './train/checkpoint.js';
export {
  evaluateOOD,
  rocCurve,
  type BootstrapOptions,
  type EvaluateOptions,
  type OODMetricName,
  type OODMetrics,
  type OODReport,
  type RocCurve,
  type Scores,
} from './ood/evaluate.js';
export { LinearProbe, l2NormalizeRows, type ProbeOptions } from './ood/probe.js';
export {
  detectors,
  Detector,
  METHODS,
  type AchievedTpr,
  type Calibration,
  type Decisions,
  type DetectorOptions,
  type InputSpec,
  type LoadedDetector,
  type Method,
  type RunOptions,
  type ScoresInput,
} from './ood/detectors.js';
// Data I/O (.npy, .npz, .safetensors, torch.save .pt, IDX, the file:name array syntax, streaming sources) and the
// MNIST / Fashion-MNIST loaders: lib/data/index.ts is the one list.
export * from './data/index.js';
// The Open Inference Protocol v2 server of `ncod serve`, for embedding (createServer({ models }).listen(...)).
export { createServer, type NcodServer } from './serve/server.js';
export type { ServableDetector, ServerOptions } from './serve/types.js';
