// The detectors of one layer of `ncod bench ood`, each fitted state computed once and shared by the detectors that
// read it, through the saved-state form every detector restores from (FittedState, fromState):
//   - Mahalanobis is Relative Mahalanobis without the background model (the same class model: native
//     mahalanobis_model builds the relative one by adding the background to it), likewise Mahalanobis++;
//   - Residual is ViM's residual space without the energy term (the same subspace fit), when ViM runs with the same
//     principalDim;
//   - NCI and fDBD read the same statistic, the ID train mean, beside the head.
// Everything else (KNN's bank, NECO's standardised PCA, ReAct's percentile) is one fit of its own.
import type { BackendName } from '../backend.js';
import type { Detector, DetectorOptions, FittedState } from '../ood/detectors/common.js';
import { DecisionDetector } from '../ood/detectors/decision.js';
import { Mahalanobis } from '../ood/detectors/mahalanobis.js';
import { Vim } from '../ood/detectors/subspace.js';
import { fitMethod } from '../ood/fit-method.js';
import type { Hyperparameters, InputNames, MethodFitData } from '../ood/method-spec.js';
import type { Method } from '../ood/method-names.js';

export interface PlannedFit {
  method: Method;
  hyper: Hyperparameters;
}

interface Sharing {
  base: Method;
  /** The hyperparameters the shared fit depends on. */
  baseHyper: (h: Hyperparameters) => Hyperparameters;
  /** Share only when the base detector itself is planned (else a fit of its own is cheaper). */
  onlyWithBase?: boolean;
  derive: (state: FittedState, h: Hyperparameters) => FittedState;
  restore: (state: FittedState, options: DetectorOptions) => Detector<Float32Array>;
}

const withoutBackground = (state: FittedState): FittedState => ({
  ...state,
  method: state.method.replace('relative-', '') as Method,
  values: Object.fromEntries(Object.entries(state.values).filter(([k]) => !k.startsWith('background.'))),
  tensors: Object.fromEntries(Object.entries(state.tensors).filter(([k]) => !k.startsWith('background.'))),
});
const mahalanobisHyper = (h: Hyperparameters): Hyperparameters => ({ ridge: h.ridge, covariance: h.covariance });

const SHARED: Partial<Record<Method, Sharing>> = {
  mahalanobis: { base: 'relative-mahalanobis', baseHyper: mahalanobisHyper, derive: withoutBackground, restore: Mahalanobis.fromState },
  'mahalanobis++': { base: 'relative-mahalanobis++', baseHyper: mahalanobisHyper, derive: withoutBackground, restore: Mahalanobis.fromState },
  residual: {
    base: 'vim',
    baseHyper: (h) => ({ principalDim: h.principalDim }),
    onlyWithBase: true,
    derive: (state) => ({ ...state, method: 'residual', values: { ...state.values, alpha: 1 } }), // Residual's α is 1
    restore: Vim.fromState,
  },
  nci: {
    base: 'fdbd',
    baseHyper: () => ({}),
    derive: (state, h) => ({ ...state, method: 'nci', hyperparameters: { alpha: h.alpha ?? 0 } }),
    restore: DecisionDetector.fromState,
  },
};

const same = (a: Hyperparameters, b: Hyperparameters) => JSON.stringify(a) === JSON.stringify(b);

/**
 * One detector per planned fit (in plan order), from `data` (the layer's train rows as batches, its head). `time`
 * wraps each fit (the table's clock). On failure every detector fitted so far is disposed.
 */
export async function fitLayerDetectors(
  plan: readonly PlannedFit[],
  data: MethodFitData,
  options: { backend: BackendName },
  names: InputNames,
  time: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<Detector<Float32Array>[]> {
  const fitted = new Map<string, Detector<Float32Array>>(); // by method and the hyperparameters of its fit
  const keyOf = (method: Method, hyper: Hyperparameters) => `${method} ${JSON.stringify(hyper)}`;
  const fit = async (method: Method, hyper: Hyperparameters) => {
    const key = keyOf(method, hyper);
    let detector = fitted.get(key);
    if (!detector) {
      detector = await time(() => fitMethod(method, data, { ...hyper, backend: options.backend }, names));
      fitted.set(key, detector);
    }
    return detector;
  };
  const out: Detector<Float32Array>[] = [];
  try {
    for (const { method, hyper } of plan) {
      const sharing = SHARED[method];
      const baseHyper = sharing?.baseHyper(hyper);
      const usable = sharing && (!sharing.onlyWithBase || plan.some((p) => p.method === sharing.base && same(sharing.baseHyper(p.hyper), baseHyper!)));
      if (!sharing || !usable) {
        out.push(await fit(method, hyper));
        continue;
      }
      // The base fit with the base's own hyperparameters where it is planned too (one fit serves both).
      const planned = plan.find((p) => p.method === sharing.base && same(sharing.baseHyper(p.hyper), baseHyper!));
      const base = await fit(sharing.base, planned?.hyper ?? baseHyper!);
      out.push(await time(async () => sharing.restore(sharing.derive(base.fittedState(), hyper), { backend: options.backend })));
    }
  } catch (error) {
    for (const d of new Set([...fitted.values(), ...out])) d.dispose();
    throw error;
  }
  // Base fits that no planned detector is (shared only) are released at once.
  for (const d of fitted.values()) if (!out.includes(d)) d.dispose();
  return out;
}
