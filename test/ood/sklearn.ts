/**
 * Test helper: computes reference OOD metrics with numpy + scikit-learn in one python3 process.
 *
 * Scores travel as raw float64 little-endian files (np.fromfile), results come back as JSON
 * scalars (Python's repr is round-trip exact) plus raw float64 files for ROC arrays.
 * There is deliberately no skip path: without a python that has numpy and scikit-learn this throws,
 * so the tests using it fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';

import type { OODMetrics } from '../../lib/ood/evaluate.js';
import { findPython } from '../helpers/python.js';

export interface SklearnCase {
  id: Float64Array;
  ood: Float64Array;
  /** Target TPR for the two FPR metrics; default 0.95. */
  tpr?: number;
  /** Also return sklearn's `roc_curve(y_id, s, drop_intermediate=False)` arrays. */
  roc?: boolean;
}

/** The same metrics as evaluateOOD, computed by scikit-learn. */
export interface SklearnResult extends OODMetrics {
  roc?: { fpr: Float64Array; tpr: Float64Array; thresholds: Float64Array };
}

const SCRIPT = String.raw`
import json, sys, warnings
import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

warnings.simplefilter('ignore')
d = sys.argv[1]
cases = json.load(open(d + '/cases.json'))
out = []
for c, meta in enumerate(cases):
    idv = np.fromfile(f'{d}/{c}.id', dtype='<f8')
    oodv = np.fromfile(f'{d}/{c}.ood', dtype='<f8')
    tpr_target = meta['tpr']
    s = np.concatenate([idv, oodv])
    y = np.concatenate([np.ones(len(idv)), np.zeros(len(oodv))])  # ID positive

    # Paper rule, written directly: t = np.sort(id)[round(0.05*len(id))]; mean(ood > t).
    # For another tpr, q = 1 - tpr rounded to 15 significant digits (the documented generalisation).
    q = 0.05 if tpr_target == 0.95 else float('%.15g' % (1 - tpr_target))
    t = np.sort(idv)[min(round(q * len(idv)), len(idv) - 1)]
    fpr95 = float(np.mean(oodv > t))

    # OpenOOD / pytorch-ood: OOD positive with -s, first ROC point with OOD recall >= tpr.
    fpr_o, tpr_o, _ = roc_curve(1 - y, -s, drop_intermediate=False)
    fpr95_ood = float(fpr_o[np.searchsorted(tpr_o, tpr_target, side='left')])

    fpr_i, tpr_i, thr_i = roc_curve(y, s, drop_intermediate=False)
    det = float(np.min(0.5 * (1 - tpr_i) + 0.5 * fpr_i))

    p_in, r_in, _ = precision_recall_curve(y, s)
    p_out, r_out, _ = precision_recall_curve(1 - y, -s)
    out.append(dict(
        auroc=float(roc_auc_score(y, s)),
        fpr95=fpr95,
        fpr95_ood_positive=fpr95_ood,
        aupr_in=float(auc(r_in, p_in)),
        aupr_out=float(auc(r_out, p_out)),
        ap_in=float(average_precision_score(y, s)),
        ap_out=float(average_precision_score(1 - y, -s)),
        detection_error=det,
    ))
    if meta['roc']:
        for name, arr in (('fpr', fpr_i), ('tpr', tpr_i), ('thr', thr_i)):
            np.asarray(arr, dtype='<f8').tofile(f'{d}/{c}.{name}')
print(json.dumps(out))
`;

function writeF64(path: string, a: Float64Array): void {
  writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function readF64(path: string): Float64Array {
  // Copy into a fresh, 8-byte aligned buffer.
  return new Float64Array(new Uint8Array(readFileSync(path)).buffer);
}

/** Reference metrics for every case, computed by one python process. */
export function sklearnMetrics(cases: SklearnCase[]): SklearnResult[] {
  if (endianness() !== 'LE') throw new Error('sklearn helper assumes a little-endian host');
  const python = findPython(['numpy', 'sklearn']);
  const dir = mkdtempSync(join(tmpdir(), 'ncod-sklearn-'));
  try {
    cases.forEach((c, i) => {
      writeF64(join(dir, `${i}.id`), c.id);
      writeF64(join(dir, `${i}.ood`), c.ood);
    });
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => ({ tpr: c.tpr ?? 0.95, roc: !!c.roc }))));
    const r = spawnSync(python, ['-c', SCRIPT, dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`python failed (status ${r.status}): ${r.stderr || r.error}`);
    const results = JSON.parse(r.stdout) as SklearnResult[];
    cases.forEach((c, i) => {
      if (c.roc) {
        results[i].roc = {
          fpr: readF64(join(dir, `${i}.fpr`)),
          tpr: readF64(join(dir, `${i}.tpr`)),
          thresholds: readF64(join(dir, `${i}.thr`)),
        };
      }
    });
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
