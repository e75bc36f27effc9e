// The public API.
export { NcodError, ErrorCodes, type ErrorCode } from './errors.js';
export { backends, blasInfo, setThreads, simdInfo, type BackendName, type BackendStatus, type BlasInfo, type SimdInfo } from './backend.js';
export { classStats, type ClassStats, type ClassStatsOptions } from './metrics/class-stats.js';
export { NcAccumulator, type NcAccumulatorState } from './metrics/nc-accumulator.js';
export { NC_METRIC_KEYS, ncMetrics, ncMetricsByLayer, type Layer, type NcMetrics, type NcMetricsOptions } from './metrics/nc.js';
export { version } from './version.js';
export { crossEntropyLs, etfProjector, nnEntropy, type LossWithGradient } from './train/kernels.js';
export { Trainer, type EpochStats, type LayerName, type TrainerOptions, type TrainerState } from './train/trainer.js';
export { loadCheckpoint, saveCheckpoint } from './train/checkpoint.js';
export { LinearProbe, l2NormalizeRows, type ProbeOptions } from './ood/probe.js';
export { detectors, type DetectorOptions, type RunOptions } from './ood/detectors.js';
