// The result of `ncod bench paper` (issue: "The paper's protocol in one command"). Fractions in [0, 1].
import type { RunEnvironment } from '../run-environment.js';

export type ProtocolName = 'fashion' | 'mnist';
export type ProtocolLabel = ProtocolName | 'custom';

export interface LayerResult {
  /** NC1 of the layer's features on the ID training set. */
  nc1: number;
  /** Paper-convention FPR at 95 % TPR of the energy of a linear probe trained on ID features, per OOD set. */
  fpr95: Record<string, number>;
  auroc: Record<string, number>;
  /** Test accuracy of a linear probe trained on each OOD set's own training labels (OOD generalisation). */
  transfer_acc: Record<string, number>;
  /** Energy-score histograms (shared bin edges) of the ID test set and each OOD test set. */
  score_histogram?: { edges: number[]; id: number[]; ood: Record<string, number[]> };
}

export interface RunResult {
  id_test_acc: number;
  train_seconds: number;
  /** Layer names in network order: enc1..encK, encoder (= encK, listed once as 'encoder'), proj1, projector. */
  layers: Record<string, LayerResult>;
}

export interface Claims {
  /** (1) NC-controlled projector's mean FPR95 < the baseline encoder's. */
  projector_detects_better: boolean;
  /** (2) NC-controlled encoder's mean transfer accuracy > the baseline encoder's. */
  encoder_transfers_better: boolean;
  /** (3) NC-controlled projector NC1 < its encoder NC1. */
  projector_more_collapsed: boolean;
  /** (4) Across layers, NC1 correlates positively with FPR95 and negatively with transfer error (100 − accuracy). */
  nc1_correlations_as_paper: boolean;
}

export interface SeedResult {
  seed: number;
  runs: { baseline: RunResult; nc_control: RunResult };
  correlation: { nc1_vs_fpr95: number; nc1_vs_transfer_error: number };
  claims: Claims;
}

export interface PaperResult {
  config: {
    protocol: ProtocolLabel;
    id: string;
    ood_sets: string[];
    seeds: number[];
    epochs: number;
    probe_epochs: number;
    layers: number[];
    quick: boolean;
    backend: string;
    date: string;
    /** SIMD level, BLAS kernel set, CPU and threads: what bitwise reproducibility depends on. */
    environment?: RunEnvironment;
  };
  /** The first seed's runs (the format the issue specifies); `seeds` holds every seed. */
  runs: { baseline: RunResult; nc_control: RunResult };
  correlation: { nc1_vs_fpr95: number; nc1_vs_transfer_error: number };
  claims: Claims;
  /** Mean ± std over seeds of the summary numbers. */
  summary: Record<string, { mean: number; std: number }>;
  seeds: SeedResult[];
}
