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

/** Rows of an OOD set's train split for a transfer probe: a per-class balanced subset of N rows, or all of them. */
export type TransferRows = number | 'all';

/** One budget of the encoder's transfer probes (`--transfer-rows`, `--probe-epochs` sweeps). */
export interface TransferBudgetPoint {
  rows: TransferRows;
  probe_epochs: number;
  /** Rows the probe was trained on, per OOD set (fewer than `rows` when the split has fewer). */
  rows_used: Record<string, number>;
  transfer_acc: Record<string, number>;
}

/** Transfer accuracy of the encoders as a function of the probe's data budget, and claim (2) per budget. */
export interface TransferBudgetTable {
  layer: 'encoder';
  rows: TransferRows[];
  probe_epochs: number[];
  /** rows × epochs × run × seed; mean_transfer_acc averages over OOD sets. */
  cells: (TransferBudgetPoint & { run: 'baseline' | 'nc_control'; seed: number; mean_transfer_acc: number })[];
  /** Claim (2) on the seed means of each budget; seeds_holding: seeds where the NC encoder transfers better. */
  claims: {
    rows: TransferRows;
    probe_epochs: number;
    baseline: { mean: number; std: number };
    nc_control: { mean: number; std: number };
    encoder_transfers_better: boolean;
    seeds_holding: number;
    seeds: number;
  }[];
}

export interface RunResult {
  id_test_acc: number;
  train_seconds: number;
  /** The encoder's transfer accuracy per probe budget, when a sweep was asked for. */
  transfer_budget?: TransferBudgetPoint[];
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
  /** (4) Across layers, NC1 correlates positively with FPR95 and negatively with transfer error (100 − accuracy): 4a and 4b. */
  nc1_correlations_as_paper: boolean;
  /** (4a) r(NC1, FPR95) > 0 across layers. */
  nc1_correlates_with_fpr95?: boolean;
  /** (4b) r(NC1, transfer error) < 0 across layers. */
  nc1_anticorrelates_with_transfer_error?: boolean;
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
    /** The transfer-probe budgets swept (`--transfer-rows`, `--probe-epochs` lists); absent without a sweep. */
    transfer_rows?: TransferRows[];
    probe_epochs_sweep?: number[];
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
  /** Transfer accuracy vs the transfer probe's budget; present when a sweep was asked for. */
  transfer_budget?: TransferBudgetTable;
}
