// OOD detectors, higher score = more in-distribution. `detectors.energy({ temperature: 1 }).score({ logits,
// numClasses })`, `await detectors.mahalanobis().fit({ features, labels, numClasses })` then `.score(features)`.
import { fdbd, nci } from './detectors/decision.js';
import { energy, gen, maxLogit, msp, react } from './detectors/logits.js';
import { knn } from './detectors/knn.js';
import { mahalanobis, relativeMahalanobis } from './detectors/mahalanobis.js';
import { neco, residual, vim } from './detectors/subspace.js';

export { LogitDetector, React, type EnergyOptions, type GenOptions, type LinearInput, type LogitsInput, type ReactOptions, type ScoreInput } from './detectors/logits.js';
export { Knn, type KnnOptions } from './detectors/knn.js';
export { Mahalanobis, type FitInput, type MahalanobisOptions } from './detectors/mahalanobis.js';
export { Neco, Vim, type HeadFitInput, type NecoOptions, type SubspaceOptions } from './detectors/subspace.js';
export { DecisionDetector, type NciOptions } from './detectors/decision.js';
export type { DetectorOptions, RunOptions } from './detectors/common.js';

export const detectors = { msp, maxLogit, energy, gen, react, mahalanobis, relativeMahalanobis, knn, vim, residual, neco, fdbd, nci };
