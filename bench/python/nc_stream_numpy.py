"""The float64 NumPy reference for streamed NC metrics: one pass over a memory map of the features, chunk by chunk,
accumulating moments about the first chunk's mean (as ncod does), then the metrics that need no classifier.
Also measures the machine's float64 GEMM rate (A.T @ A, which NumPy runs as a syrk) on one chunk.

  python3 nc_stream_numpy.py FEATURES.npy LABELS.npy C   → one JSON object on stdout
"""
import json
import sys
import time

import numpy as np

CHUNK = 8192


def gemm_rate(d):
    a = np.random.default_rng(0).standard_normal((CHUNK, d))
    a.T @ a
    start = time.perf_counter()
    for _ in range(3):
        a.T @ a
    seconds = (time.perf_counter() - start) / 3
    return CHUNK * d * d / seconds  # syrk flops: n·d² (d²/2 multiply-adds per row)


def stream(path, labels_path, c):
    x = np.load(path, mmap_mode="r")
    y = np.load(labels_path).astype(np.int64).ravel()
    n, d = x.shape
    counts = np.zeros(c)
    sums = np.zeros((c, d))
    sq = np.zeros(c)
    scatter = np.zeros((d, d))
    shift = None
    start = time.perf_counter()
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        z = np.asarray(x[a:b], dtype=np.float64)
        if shift is None:
            shift = z.mean(0)
        z -= shift
        scatter += z.T @ z
        yc = y[a:b]
        order = np.argsort(yc, kind="stable")
        classes, starts = np.unique(yc[order], return_index=True)
        zs = z[order]
        sums[classes] += np.add.reduceat(zs, starts, axis=0)
        sq[classes] += np.add.reduceat((zs * zs).sum(1), starts)
        counts += np.bincount(yc, minlength=c)
    seconds = time.perf_counter() - start
    return seconds, n, d, counts, sums, sq, scatter, shift


def metrics(n, d, c, counts, sums, sq, scatter, shift):
    means_k = sums / counts[:, None]  # μ_c − K
    mu_g = means_k.mean(0)
    mt = (means_k - mu_g).T  # d×C
    within = scatter - (sums.T / counts) @ sums  # N Σ_W
    sw = within / n
    sb = mt @ mt.T / c
    out = {"n": int(n), "dim": int(d), "classes": int(c)}
    out["nc1"] = float(np.sum(sw * np.linalg.pinv(sb, rcond=1e-10, hermitian=True).T) / c)
    out["nc1_quotient"] = float(np.trace(sw) / np.trace(sb))
    class_ss = sq - (sums * sums).sum(1) / counts  # Σ‖x − μ_c‖² per class
    sig2 = class_ss / counts
    gram = mt.T @ mt
    norms2 = np.diag(gram)
    dist2 = norms2[:, None] + norms2[None, :] - 2 * gram
    iu = np.triu_indices(c, 1)
    out["nc1_cdnv"] = float(np.mean((sig2[:, None] + sig2[None, :])[iu] / (2 * dist2[iu])))
    norms = np.sqrt(norms2)
    out["nc2_equinorm_means"] = float(norms.std(ddof=1) / norms.mean())
    off = ~np.eye(c, dtype=bool)
    out["nc2_equiangularity_means"] = float(np.abs((gram / np.outer(norms, norms))[off] + 1 / (c - 1)).mean())
    e = (np.eye(c) - np.ones((c, c)) / c) / np.sqrt(c - 1)
    out["nc2_etf_error_means"] = float(np.linalg.norm(gram / np.linalg.norm(gram) - e))
    return out


if __name__ == "__main__":
    path, labels_path, c = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seconds, n, d, *stats = stream(path, labels_path, c)
    result = {"seconds": seconds, "gemm_flops_per_s": gemm_rate(d), "metrics": metrics(n, d, c, *stats)}
    print(json.dumps(result))
