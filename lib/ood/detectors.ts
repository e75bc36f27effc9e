// OOD detectors, higher score = more in-distribution. `detectors.energy({ temperature: 1 }).score({ logits,
// numClasses })`, `await detectors.mahalanobis().fit({ features, labels, numClasses })` then `.score(features)`;
// `await det.calibrate(heldOut)`, `await det.save('det.ncod')`, `await detectors.load('det.ncod')`.
import type { DetectorOptions } from './detectors/common.js';
import { DECISION_SPECS, fdbd, nci } from './detectors/decision.js';
import { energy, entropy, gen, LOGIT_SPECS, maxLogit, msp, react } from './detectors/logits.js';
import { knn, KNN_SPECS } from './detectors/knn.js';
import { MAHALANOBIS_SPECS, mahalanobis, mahalanobisPlusPlus, relativeMahalanobis, relativeMahalanobisPlusPlus } from './detectors/mahalanobis.js';
import { neco, residual, SUBSPACE_SPECS, vim } from './detectors/subspace.js';
import type { LoadedDetector } from './detector-file.js';
import type { Method } from './method-names.js';
import type { MethodSpec } from './method-spec.js';

export { LogitDetector, React, type EnergyOptions, type EntropyOptions, type HeadInput, type GenOptions, type LinearInput, type LogitsInput, type ReactOptions, type ScoreInput } from './detectors/logits.js';
export { Knn, type KnnOptions } from './detectors/knn.js';
export { Mahalanobis, type BatchFitInput, type FitInput, type MahalanobisOptions } from './detectors/mahalanobis.js';
export { Neco, Vim, type HeadBatchFitInput, type HeadFitInput, type NecoOptions, type SubspaceFitInput, type SubspaceOptions } from './detectors/subspace.js';
export { DecisionDetector, type NciOptions } from './detectors/decision.js';
export { Detector, type DetectorOptions, type FittedState, type InputSpec, type RunOptions, type ScoresInput } from './detectors/common.js';
export type { LoadedDetector } from './detector-file.js';
export { METHODS, type Method } from './method-names.js';
export type { AchievedTpr, Calibration, Decisions } from './calibration.js';

/** Reads a saved detector; the file code is loaded on first use (it imports every detector class and safetensors). */
async function load(path: string, options: DetectorOptions = {}): Promise<LoadedDetector> {
  const { readDetectorFile } = await import('./detector-file.js');
  return readDetectorFile(path, options);
}

/** Every detector's factory, and `load(path)` for a saved one (`await det.save(path)`). */
export const detectors = { msp, maxLogit, energy, gen, entropy, react, mahalanobis, relativeMahalanobis, mahalanobisPlusPlus, relativeMahalanobisPlusPlus, knn, vim, residual, neco, fdbd, nci, load };

/**
 * Every method as the pipeline sees it, by name: a Record over Method, so a detector without a spec does not compile.
 * Each spec is declared beside its detector; a new family file adds its `*_SPECS` here.
 */
export const METHOD_SPECS: Readonly<Record<Method, MethodSpec>> = { ...LOGIT_SPECS, ...MAHALANOBIS_SPECS, ...KNN_SPECS, ...SUBSPACE_SPECS, ...DECISION_SPECS };
