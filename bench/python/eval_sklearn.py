"""scikit-learn reference for lib/ood/evaluate.ts's metrics (same definitions as its docs), timed inside
Python: the score/label concatenation and the metric calls, not the .npy loading.

Usage: eval_sklearn.py DIR [REPEATS]   (DIR holds id.npy and ood.npy, float64; higher = more ID)
Prints one JSON object: seconds (median of REPEATS runs after a warm-up on 1 000 scores each), metrics.
"""
import json
import statistics
import sys
import time

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve


def evaluate(s_id, s_ood, tpr_target=0.95):
    s = np.concatenate([s_id, s_ood])
    y = np.concatenate([np.ones(len(s_id)), np.zeros(len(s_ood))])
    out = {"auroc": roc_auc_score(y, s)}
    # Paper convention: threshold at the (1 − tpr) quantile of the ID scores, fraction of OOD above it.
    k = min(round(round(1 - tpr_target, 15) * len(s_id)), len(s_id) - 1)
    t = np.partition(s_id, k)[k]
    out["fpr95"] = np.mean(s_ood > t)
    # OpenOOD convention: OOD positive with −s, FPR at the first ROC point with TPR ≥ 0.95.
    fpr, tpr, _ = roc_curve(1 - y, -s, drop_intermediate=False)
    out["fpr95_ood_positive"] = fpr[np.searchsorted(tpr, tpr_target, side="left")]
    precision, recall, _ = precision_recall_curve(y, s)
    out["aupr_in"] = auc(recall, precision)
    precision, recall, _ = precision_recall_curve(1 - y, -s)
    out["aupr_out"] = auc(recall, precision)
    out["ap_in"] = average_precision_score(y, s)
    out["ap_out"] = average_precision_score(1 - y, -s)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    out["detection_error"] = np.min(0.5 * (1 - tpr) + 0.5 * fpr)
    return {k: float(v) for k, v in out.items()}


d = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
s_id, s_ood = np.load(f"{d}/id.npy"), np.load(f"{d}/ood.npy")
evaluate(s_id[:1000], s_ood[:1000])
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    metrics = evaluate(s_id, s_ood)
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": statistics.median(times), "metrics": metrics}))
