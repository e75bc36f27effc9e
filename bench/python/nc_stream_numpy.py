"""The float64 NumPy reference for streamed NC metrics: one pass over a memory map of the features, chunk by chunk,
accumulating moments about the first chunk's mean (as ncod does), then the metrics that need no classifier.
Also measures the machine's float64 GEMM rate (A.T @ A, which NumPy runs as a syrk) on one chunk.

  python3 nc_stream_numpy.py FEATURES.npy LABELS.npy C [--weights W.npy --bias b.npy] [--ood O.npy]
                             [--queries Q.npy --ridge R]   → one JSON object on stdout
With a classifier: NC2 (weights), NC3 and NC4 (the agreement in a second pass over the memory map); with OOD
features: NC5; with queries: their Mahalanobis scores (tied covariance / N, every eigenvalue + R·λ_max, as ncod).
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


def class_means(counts, sums, shift):
    return shift + sums / counts[:, None]


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


def etf_error(g, c):
    e = (np.eye(c) - np.ones((c, c)) / c) / np.sqrt(c - 1)
    return float(np.linalg.norm(g / np.linalg.norm(g) - e))


def classifier_metrics(path, labels_path, w, b, mu):
    """NC2 (weights), NC3, NC4 as test/helpers/nc_reference.py defines them; the agreement in a second pass."""
    c = mu.shape[0]
    mu_g = mu.mean(0)
    mt = (mu - mu_g).T
    wn = np.linalg.norm(w, axis=1)
    out = {
        "nc2_equinorm_weights": float(wn.std(ddof=1) / wn.mean()),
        "nc2_etf_error_weights": etf_error(w @ w.T, c),
        "nc3_self_duality": etf_error(w @ mt, c),
        "nc3_papyan": float(np.linalg.norm(w / np.linalg.norm(w) - mt.T / np.linalg.norm(mt)) ** 2),
        "nc4_bias_relation": float(np.linalg.norm(w @ mu_g + b)),
    }
    x = np.load(path, mmap_mode="r")
    agree = 0
    mu2 = (mu**2).sum(1)
    for a in range(0, x.shape[0], CHUNK):
        h = np.asarray(x[a : a + CHUNK], dtype=np.float64)
        pred = np.argmax(h @ w.T + b, axis=1)
        ncc = np.argmin(mu2[None, :] - 2 * h @ mu.T, axis=1)
        agree += int((pred == ncc).sum())
    out["nc4_ncc_agreement"] = agree / x.shape[0]
    return out


def ood_metric(ood_path, mu):
    mu_o = np.load(ood_path).astype(np.float64).mean(0)
    cos = (mu @ mu_o) / (np.linalg.norm(mu, axis=1) * np.linalg.norm(mu_o))
    return {"nc5_ood_orthogonality": float(np.abs(cos).mean())}


def mahalanobis_scores(queries_path, n, counts, sums, scatter, shift, ridge):
    mu = class_means(counts, sums, shift)
    cov = (scatter - (sums.T / counts) @ sums) / n
    lam, v = np.linalg.eigh(cov)
    # Whitened coordinates: ‖P(x − μ_c)‖² with P = diag(λ')^-½ Vᵀ; differences taken after whitening, so exact.
    p = v / np.sqrt(np.maximum(lam, 0) + ridge * lam.max())
    q = np.load(queries_path).astype(np.float64) @ p
    mw = mu @ p
    best = np.full(len(q), np.inf)
    for c in range(len(mu)):
        best = np.minimum(best, ((q - mw[c]) ** 2).sum(1))
    return (-best).tolist()


def option(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


if __name__ == "__main__":
    path, labels_path, c = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seconds, n, d, counts, sums, sq, scatter, shift = stream(path, labels_path, c)
    result = {"seconds": seconds, "gemm_flops_per_s": gemm_rate(d), "metrics": metrics(n, d, c, counts, sums, sq, scatter, shift)}
    mu = class_means(counts, sums, shift)
    if option("--weights"):
        w = np.load(option("--weights")).astype(np.float64)
        b = np.load(option("--bias")).astype(np.float64) if option("--bias") else np.zeros(c)
        result["metrics"].update(classifier_metrics(path, labels_path, w, b, mu))
    if option("--ood"):
        result["metrics"].update(ood_metric(option("--ood"), mu))
    if option("--queries"):
        result["mahalanobis"] = mahalanobis_scores(option("--queries"), n, counts, sums, scatter, shift, float(option("--ridge")))
    print(json.dumps(result))
