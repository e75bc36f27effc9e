"""PyTorch references for the NC metric suite (METHOD.md §4; definitions as in test/helpers/nc_reference.py),
timed inside Python (load time excluded). Everything is float32, as a training script would have it.

Usage: nc_torch.py DIR C MODE [ROWS] [REPEATS]
  DIR holds features.npy (N×d float32), labels.npy (N int32), weights.npy (C×d), bias.npy (C).
  MODE "good":      vectorised: one-hot matmul means, pooled Zᵀ Z for Σ_W, Hermitian pinv of Σ_B.
  MODE "reference": the reference code's algorithm (Papyan et al.'s NC notebook, which the paper's code
                    follows): two passes over batches of 128 with a per-class Python loop, Σ_W as a sum of
                    per-sample d×d outer products, a per-sample loop for the nearest-class-centre
                    predictions, and a full (non-Hermitian) pinv of the d×d Σ_B. Two changes in its favour:
                    the outer products go into one preallocated B×d×d buffer (the original's
                    `Sw += torch.sum(torch.matmul(z.unsqueeze(-1), z.unsqueeze(1)), dim=0)` allocates GBs
                    per batch, and fresh pages are slow on VMs: 3–8× slower here), and they are added to
                    Σ_W one by one (in-place add_ beats sum(dim=0) for these shapes).
  ROWS: time only the first ROWS samples (default all). REPEATS: timed runs after one warm-up (default 3);
  "reference" warms up on 256 rows and is timed once.
Prints one JSON object: seconds (median), pass_seconds / fixed_seconds (reference: the two passes, which
scale with N, and the rest, which does not), rows, threads, metrics.
"""
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count())
torch.set_grad_enabled(False)


def etf_target(C):
    return (torch.eye(C) - torch.ones(C, C) / C) / math.sqrt(C - 1)


def etf_error(A, E):
    return float((A / A.norm() - E).norm())


def small_metrics(mu, muG, sig2, W, b, E):
    """The metrics from C×d quantities: NC1 CDNV, NC2, NC3, NC4 bias relation. mu: C×d class means."""
    C = mu.shape[0]
    Mt = mu - muG  # C×d, rows μ_c − μ_G (M̃ᵀ)
    iu = torch.triu_indices(C, C, 1)
    dist2 = ((mu[iu[0]] - mu[iu[1]]) ** 2).sum(1)
    norms = Mt.norm(dim=1)
    G = Mt @ Mt.T
    off = ~torch.eye(C, dtype=torch.bool)
    wn = W.norm(dim=1)
    return {
        "nc1_cdnv": float(((sig2[iu[0]] + sig2[iu[1]]) / (2 * dist2)).mean()),
        "nc2_equinorm_means": float(norms.std() / norms.mean()),
        "nc2_equiangularity_means": float(((G / torch.outer(norms, norms))[off] + 1 / (C - 1)).abs().mean()),
        "nc2_etf_error_means": etf_error(G, E),
        "nc2_equinorm_weights": float(wn.std() / wn.mean()),
        "nc2_etf_error_weights": etf_error(W @ W.T, E),
        "nc3_self_duality": etf_error(W @ Mt.T, E),
        "nc3_papyan": float(((W / W.norm() - Mt / Mt.norm()) ** 2).sum()),
        "nc4_bias_relation": float((W @ muG + b).norm()),
    }


def good(H, y, W, b, C):
    N, d = H.shape
    E = etf_target(C)
    Y = F.one_hot(y, C).to(H.dtype)  # N×C
    counts = Y.sum(0)
    mu = (Y.T @ H) / counts[:, None]  # C×d
    muG = mu.mean(0)
    Mt = mu - muG
    Z = H - mu[y]
    Sw = (Z.T @ Z) / N
    Sb = (Mt.T @ Mt) / C
    Sb_pinv = torch.linalg.pinv(Sb, hermitian=True)  # default rtol = d·eps cuts Σ_B's null space
    sig2 = (Y.T @ (Z * Z).sum(1)) / counts
    pred = torch.argmax(H @ W.T + b, dim=1)
    ncc = torch.argmin((mu * mu).sum(1) - 2 * (H @ mu.T), dim=1)
    out = {
        "nc1": float((Sw * Sb_pinv).sum() / C),  # Tr(Σ_W Σ_B⁺), both symmetric
        "nc1_quotient": float(Sw.trace() / Sb.trace()),
        "nc4_ncc_agreement": float((pred == ncc).float().mean()),
    }
    out.update(small_metrics(mu, muG, sig2, W, b, E))
    return out, {}


def reference(H, y, W, b, C, batch=128):
    N, d = H.shape
    E = etf_target(C)
    start = time.perf_counter()
    # Pass 1: class means.
    means = [torch.zeros(d) for _ in range(C)]
    n = [0] * C
    for s in range(0, N, batch):
        h, t = H[s : s + batch], y[s : s + batch]
        for c in range(C):
            idxs = (t == c).nonzero(as_tuple=True)[0]
            if len(idxs) == 0:
                continue
            h_c = h[idxs, :]
            means[c] += torch.sum(h_c, dim=0)
            n[c] += h_c.shape[0]
    for c in range(C):
        means[c] /= n[c]
    M = torch.stack(means).T  # d×C
    # Pass 2: Σ_W from per-sample outer products, per-class variances, NCC agreement.
    Sw = torch.zeros(d, d)
    sig2 = torch.zeros(C)
    match = 0
    outer = torch.empty(batch, d, d)  # reused: see the module docstring
    for s in range(0, N, batch):
        h, t = H[s : s + batch], y[s : s + batch]
        logits = h @ W.T + b
        for c in range(C):
            idxs = (t == c).nonzero(as_tuple=True)[0]
            if len(idxs) == 0:
                continue
            h_c = h[idxs, :]
            z = h_c - means[c].unsqueeze(0)
            cov = outer[: len(idxs)]
            torch.mul(z.unsqueeze(-1), z.unsqueeze(1), out=cov)  # B×d×d per-sample outer products
            for i in range(len(idxs)):
                Sw += cov[i]
            sig2[c] += torch.sum(z * z)
            net_pred = torch.argmax(logits[idxs, :], dim=1)
            ncc_scores = torch.stack([torch.norm(h_c[i, :] - M.T, dim=1) for i in range(h_c.shape[0])])
            match += int((torch.argmin(ncc_scores, dim=1) == net_pred).sum())
    Sw /= N
    passes = time.perf_counter()
    muG = M.mean(dim=1, keepdim=True)
    M_ = M - muG
    Sb = (M_ @ M_.T) / C
    inv_Sb = torch.linalg.pinv(Sb)
    out = {
        "nc1": float(torch.trace(Sw @ inv_Sb) / C),
        "nc1_quotient": float(torch.trace(Sw) / torch.trace(Sb)),
        "nc4_ncc_agreement": match / N,
    }
    counts = torch.tensor(n, dtype=torch.float32)
    out.update(small_metrics(M.T, muG[:, 0], sig2 / counts, W, b, E))
    end = time.perf_counter()
    return out, {"pass_seconds": passes - start, "fixed_seconds": end - passes}


def main():
    d, C, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    H = torch.from_numpy(np.load(f"{d}/features.npy"))
    y = torch.from_numpy(np.load(f"{d}/labels.npy").astype(np.int64))
    W = torch.from_numpy(np.load(f"{d}/weights.npy"))
    b = torch.from_numpy(np.load(f"{d}/bias.npy"))
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else H.shape[0]
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    H, y = H[:rows], y[:rows]
    fn = {"good": good, "reference": reference}[mode]
    if mode == "reference":
        fn(H[:256], y[:256], W, b, C)
        repeats = 1
    else:
        fn(H, y, W, b, C)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        metrics, parts = fn(H, y, W, b, C)
        times.append(time.perf_counter() - t0)
    result = {"seconds": statistics.median(times), "rows": rows, "threads": torch.get_num_threads(), "metrics": metrics}
    result.update(parts)  # reference: its single run's split
    print(json.dumps(result))


main()
