"""PyTorch references for the detector suite (bench/suites/detectors.ts), timed inside Python with
time.perf_counter (the .npy load is excluded), all threads, float32, no autograd.

Usage: detectors_torch.py DIR MODE [REPEATS]
  energy:      DIR/logits.npy (N×C). Times torch.logsumexp(logits, 1) (T = 1, the energy score).
               Returns the first 1000 scores for a check.
  knn K:       DIR/fit.npy (N×d), DIR/queries.npy (M×d). Untimed "fit": L2-normalise the fit set once.
               Timed score: normalise the queries, then per block of 1024 queries q @ Xᵀ and torch.topk(K),
               the K-th largest cosine similarity. Returns all scores.
  mahalanobis C: DIR/fit.npy (N×d), DIR/labels.npy (N int32), DIR/queries.npy (M×d).
               Timed fit: one-hot matmul class means, pooled (MLE, /N) covariance from one ZᵀZ matmul,
               torch.linalg.inv, and the precomputed μ_c Σ⁻¹ and μ_cᵀ Σ⁻¹ μ_c.
               Timed score: −min_c [xᵀΣ⁻¹x − 2 xᵀΣ⁻¹μ_c + μ_cᵀΣ⁻¹μ_c] from two matmuls. Returns all scores.
Prints one JSON object: seconds (median of REPEATS timed runs after one warm-up), threads, and the scores.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count())
torch.set_grad_enabled(False)


def timed(fn, repeats):
    out = fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def knn_score(Xn, Q, k, block=1024):
    Qn = F.normalize(Q, dim=1)
    out = torch.empty(Q.shape[0])
    for s in range(0, Q.shape[0], block):
        sims = Qn[s : s + block] @ Xn.T
        out[s : s + block] = torch.topk(sims, k, dim=1, sorted=True).values[:, k - 1]
    return out


def maha_fit(X, y, C):
    N = X.shape[0]
    Y = F.one_hot(y, C).to(X.dtype)
    mu = (Y.T @ X) / Y.sum(0)[:, None]  # C×d
    Z = X - mu[y]
    cov = (Z.T @ Z) / N
    P = torch.linalg.inv(cov)
    muP = mu @ P  # C×d (P symmetric)
    const = (muP * mu).sum(1)  # μ_cᵀ Σ⁻¹ μ_c
    return P, muP, const


def maha_score(model, Q):
    P, muP, const = model
    QP = Q @ P
    quad = (QP * Q).sum(1)
    d2 = quad[:, None] - 2 * (Q @ muP.T) + const[None, :]
    return -d2.min(1).values


def main():
    d, mode = sys.argv[1], sys.argv[2]
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    if mode == "energy":
        repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        L = torch.from_numpy(np.load(f"{d}/logits.npy"))
        result["seconds"], s = timed(lambda: torch.logsumexp(L, 1), repeats)
        result["scores"] = s[:1000].tolist()
    elif mode == "knn":
        k = int(sys.argv[3])
        repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        X = torch.from_numpy(np.load(f"{d}/fit.npy"))
        Q = torch.from_numpy(np.load(f"{d}/queries.npy"))
        Xn = F.normalize(X, dim=1)
        result["seconds"], s = timed(lambda: knn_score(Xn, Q, k), repeats)
        result["scores"] = s.tolist()
    elif mode == "mahalanobis":
        C = int(sys.argv[3])
        repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        X = torch.from_numpy(np.load(f"{d}/fit.npy"))
        y = torch.from_numpy(np.load(f"{d}/labels.npy").astype(np.int64))
        Q = torch.from_numpy(np.load(f"{d}/queries.npy"))
        result["fit_seconds"], model = timed(lambda: maha_fit(X, y, C), repeats)
        result["seconds"], s = timed(lambda: maha_score(model, Q), repeats)
        result["scores"] = s.tolist()
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


main()
