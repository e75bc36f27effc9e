// OOD detectors, higher score = more in-distribution. `detectors.energy({ temperature: 1 }).score({ logits,
// numClasses })`, `await detectors.mahalanobis().fit({ features, labels, numClasses })` then `.score(features)`;
// `await det.calibrate(heldOut)`, `await det.save('det.ncod')`, `await detectors.load('det.ncod')`.
import { fdbd, nci } from './detectors/decision.js';
import { energy, entropy, gen, maxLogit, msp, react } from './detectors/logits.js';
import { knn } from './detectors/knn.js';
import { mahalanobis, mahalanobisPlusPlus, relativeMahalanobis, relativeMahalanobisPlusPlus } from './detectors/mahalanobis.js';
import { neco, residual, vim } from './detectors/subspace.js';
import { readDetectorFile } from './detector-file.js';

export { LogitDetector, React, type EnergyOptions, type EntropyOptions, type HeadInput, type GenOptions, type LinearInput, type LogitsInput, type ReactOptions, type ScoreInput } from './detectors/logits.js';
export { Knn, type KnnOptions } from './detectors/knn.js';
export { Mahalanobis, type BatchFitInput, type FitInput, type MahalanobisOptions } from './detectors/mahalanobis.js';
export { Neco, Vim, type HeadBatchFitInput, type HeadFitInput, type NecoOptions, type SubspaceFitInput, type SubspaceOptions } from './detectors/subspace.js';
export { DecisionDetector, type NciOptions } from './detectors/decision.js';
export { Detector, type DetectorOptions, type FittedState, type InputSpec, type RunOptions, type ScoresInput } from './detectors/common.js';
export type { LoadedDetector } from './detector-file.js';
export { METHODS, type Method } from './method-names.js';
export type { AchievedTpr, Calibration, Decisions } from './calibration.js';

/** Every detector's factory, and `load(path)` for a saved one (`await det.save(path)`). */
export const detectors = { msp, maxLogit, energy, gen, entropy, react, mahalanobis, relativeMahalanobis, mahalanobisPlusPlus, relativeMahalanobisPlusPlus, knn, vim, residual, neco, fdbd, nci, load: readDetectorFile };
