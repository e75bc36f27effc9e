// The detector names, as `ncod score --method`, `ncod fit --method`, saved detector files and the server spell them.
// Imports nothing, so that the CLI's option definitions can list them without loading any detector code.
export const METHODS = ['msp', 'maxlogit', 'energy', 'gen', 'entropy', 'react', 'mahalanobis', 'relative-mahalanobis', 'mahalanobis++', 'relative-mahalanobis++', 'knn', 'vim', 'residual', 'neco', 'fdbd', 'nci'] as const;
export type Method = (typeof METHODS)[number];

/**
 * The detectors that score logits (or features through a bound linear head) and need no fit statistics, named as the
 * native score kinds (native/core/detectors.h kLogitScoreNames; binding.d.ts RawLogitScoreName).
 */
export const LOGIT_METHODS = ['msp', 'maxlogit', 'energy', 'gen', 'entropy'] as const satisfies readonly Method[];
export type LogitMethod = (typeof LOGIT_METHODS)[number];

/** How the Mahalanobis variants invert the covariance (native/core/detectors.h CovarianceOptions); the first is the default. */
export const COVARIANCES = ['ridge', 'pinv'] as const;
export type Covariance = (typeof COVARIANCES)[number];

export const isLogitMethod = (method: Method): method is LogitMethod => (LOGIT_METHODS as readonly Method[]).includes(method);
