"""Float64 NumPy references for the OOD detectors, straight from the papers' definitions.

Usage: ood_reference.py DIR. DIR holds meta.json ({"detector": ..., options}) and the .npy inputs it names;
writes DIR/scores.npy (float64, higher = more in-distribution).
"""
import decimal
import json
import os
import sys

import numpy as np


def load(d, name):
    return np.load(os.path.join(d, name + ".npy")).astype(np.float64)


def logsumexp(z, axis=1):
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logit_score(kind, z, meta):
    if kind == "msp":
        return softmax(z).max(axis=1)
    if kind == "maxLogit":
        return z.max(axis=1)
    if kind == "energy":
        t = meta.get("temperature", 1.0)
        return t * logsumexp(z / t)
    if kind == "gen":  # Liu et al. 2023: -sum over the top-M probabilities of p^g (1-p)^g
        # In log space and without 1 - p: log(1 - p_c) = logsumexp(z_j, j != c) - logsumexp(z), so rows where
        # 1 - p is below float64's resolution near 1 (or p underflows) are exact too.
        g = meta.get("gamma", 0.1)
        m = meta.get("topM") or min(100, z.shape[1])
        C = z.shape[1]
        out = np.zeros(len(z))
        if C == 1:
            return out  # p = 1, so 1 - p = 0
        lse = logsumexp(z)
        order = np.argsort(-z, axis=1, kind="stable")[:, :m]
        for i in range(len(z)):
            others = np.tile(z[i], (len(order[i]), 1))  # one row per selected class c, with z_c masked out
            others[np.arange(len(order[i])), order[i]] = -np.inf
            log_p = z[i, order[i]] - lse[i]
            log_rest = logsumexp(others) - lse[i]
            out[i] = -np.exp(g * (log_p + log_rest)).sum()
        return out
    if kind == "entropy":
        return np.array([-decimal_entropy(row, meta.get("temperature", 1.0)) for row in z])
    raise ValueError(kind)


def decimal_entropy(row, t):
    """H(softmax(row / t)) = -sum p log p, at 60 significant digits from the exact float inputs, so neither float64
    rounding nor cancellation enters the reference (dominant rows have H far below float64's resolution near 1)."""
    with decimal.localcontext(decimal.Context(prec=60, Emin=-10**9, Emax=10**9)):  # every operator, sum() too
        u = [decimal.Decimal(float(x)) / decimal.Decimal(float(t)) for x in row]
        m = max(u)
        e = [(x - m).exp() for x in u]
        top = u.index(m)
        rest = sum((ei for i, ei in enumerate(e) if i != top), decimal.Decimal(0))  # Σ over all but one maximum
        s = 1 + rest
        # log s = log1p(rest): where rest is below 60 digits' resolution near 1, 1 + rest rounds to 1, so the series
        # (its third term already under 1e-60 relative there).
        log_s = rest - rest * rest / 2 if rest < decimal.Decimal("1e-30") else s.ln()
        return float(sum((ei / s * (log_s - (ui - m)) for ei, ui in zip(e, u)), decimal.Decimal(0)))


def regularised_inverse(cov, ridge):
    w, v = np.linalg.eigh(cov)
    lam = np.maximum(w, 0) + ridge * max(w.max(), 0)
    return (v / lam) @ v.T


def mahalanobis(x, feats, labels, C, ridge, relative):
    n = len(labels)
    means = np.stack([feats[labels == c].mean(axis=0) for c in range(C)])
    centred = feats - means[labels]
    prec = regularised_inverse(centred.T @ centred / n, ridge)
    md = np.stack([np.einsum("ij,jk,ik->i", x - means[c], prec, x - means[c]) for c in range(C)], axis=1)
    if not relative:
        return -md.min(axis=1)
    g = feats.mean(axis=0)
    prec0 = regularised_inverse((feats - g).T @ (feats - g) / n, ridge)
    md0 = np.einsum("ij,jk,ik->i", x - g, prec0, x - g)
    return -(md - md0[:, None]).min(axis=1)


def normalise(a):
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def knn(x, feats, k):
    sims = normalise(x) @ normalise(feats).T  # the full matrix: fine at test sizes
    return -np.sort(-sims, axis=1)[:, k - 1]  # k-th largest; ties make the value well defined


def vim(x, feats, w, b, principal_dim, with_energy):
    """ViM / Residual as in Wang et al.'s code: origin u = -pinv(W) b, covariance about u (assume_centered)."""
    u = -np.linalg.pinv(w) @ b
    cov = (feats - u).T @ (feats - u) / len(feats)
    vals, vecs = np.linalg.eigh(cov)
    null = vecs[:, np.argsort(-vals)[principal_dim:]]
    res = np.linalg.norm((x - u) @ null, axis=1)
    if not with_energy:
        return -res
    alpha = (feats @ w.T + b).max(axis=1).mean() / np.linalg.norm((feats - u) @ null, axis=1).mean()
    return logsumexp(x @ w.T + b) - alpha * res


def neco(x, feats, w, b, principal_dim, multiply):
    """NECO: StandardScaler then PCA on ID features; ||top-D projection|| / ||z|| (times the max logit)."""
    mu, sd = feats.mean(axis=0), feats.std(axis=0)
    sd[sd == 0] = 1
    zf = (feats - mu) / sd
    zf_mean = zf.mean(axis=0)
    vals, vecs = np.linalg.eigh((zf - zf_mean).T @ (zf - zf_mean) / len(zf))
    top = vecs[:, np.argsort(-vals)[:principal_dim]]
    z = (x - mu) / sd - zf_mean
    s = np.linalg.norm(z @ top, axis=1) / np.linalg.norm(z, axis=1)
    return s * (x @ w.T + b).max(axis=1) if multiply else s


def decision(x, feats, w, b, kind, alpha):
    """fDBD (Liu & Qin 2024) and NCI (Liu & Qin 2025, as pytorch-ood's NCI with the sign flipped: higher = ID)."""
    mu = feats.mean(axis=0)
    z = x @ w.T + b
    pred = z.argmax(axis=1)
    r = np.linalg.norm(x - mu, axis=1)
    if kind == "fdbd":
        out = np.empty(len(x))
        for i, p in enumerate(pred):
            others = np.arange(w.shape[0]) != p
            dist = (z[i, p] - z[i, others]) / np.linalg.norm(w[p] - w[others], axis=1)
            out[i] = dist.mean() if others.any() else 0.0
        return out / r
    return ((x - mu) * w[pred]).sum(axis=1) / r + alpha * np.abs(x).sum(axis=1)


def main(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    det = meta["detector"]
    if det in ("msp", "maxLogit", "energy", "gen", "entropy", "react"):
        if "logits" in meta["inputs"]:
            z = load(d, "logits")
        else:
            x = load(d, "features")
            if det == "react" or meta.get("clip") is not None:
                x = np.minimum(x, meta["clip"])
            w = load(d, "weights")
            z = x @ w.T + (load(d, "bias") if "bias" in meta["inputs"] else 0)
        s = logit_score("energy" if det == "react" else det, z, meta)
    elif det in ("mahalanobis", "relativeMahalanobis"):
        s = mahalanobis(load(d, "x"), load(d, "features"), np.load(os.path.join(d, "labels.npy")),
                        meta["numClasses"], meta.get("ridge", 1e-6), det == "relativeMahalanobis")
    elif det in ("vim", "residual"):
        s = vim(load(d, "x"), load(d, "features"), load(d, "weights"), load(d, "bias"), meta["principalDim"], det == "vim")
    elif det == "neco":
        s = neco(load(d, "x"), load(d, "features"), load(d, "weights"), load(d, "bias"), meta["principalDim"],
                 meta.get("multiplyMaxLogit", True))
    elif det in ("fdbd", "nci"):
        b = load(d, "bias") if "bias" in meta["inputs"] else 0
        s = decision(load(d, "x"), load(d, "features"), load(d, "weights"), b, det, meta.get("alpha", 0.0))
    elif det == "knn":
        s = knn(load(d, "x"), load(d, "features"), meta["k"])
    else:
        raise ValueError(det)
    np.save(os.path.join(d, "scores.npy"), np.asarray(s, dtype=np.float64))


if __name__ == "__main__":
    main(sys.argv[1])
