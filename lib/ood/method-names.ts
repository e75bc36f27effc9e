// The detector names, as `ncod score --method`, `ncod fit --method`, saved detector files and the server spell them.
// Imports nothing, so that the CLI's option definitions can list them without loading any detector code.
export const METHODS = ['msp', 'maxlogit', 'energy', 'gen', 'react', 'mahalanobis', 'relative-mahalanobis', 'mahalanobis++', 'relative-mahalanobis++', 'knn', 'vim', 'residual', 'neco', 'fdbd', 'nci'] as const;
export type Method = (typeof METHODS)[number];

/** The detectors that score logits (or features through a bound linear head) and need no fit statistics. */
export const LOGIT_METHODS: readonly Method[] = ['msp', 'maxlogit', 'energy', 'gen'];
