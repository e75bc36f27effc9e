"""Float64 reference for the Neural Collapse metrics, written straight from the definitions (METHOD.md §4):
full d×d Σ_W and Σ_B, a Hermitian pseudo-inverse with a tolerance that cuts Σ_B's null space, per-pair loops.
Also the naive NC1 of the reference code (Σ_B in float32, full pseudo-inverse at default tolerance).
Usage: python3 nc_reference.py DIR  (DIR holds features.npy, labels.npy, meta.json and optional
weights.npy, bias.npy, ood.npy); prints one JSON object."""
import json
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")  # log(0) = -inf for coinciding normalised means is expected (GNC2 is then None)
d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
C = meta["num_classes"]
H = np.load(f"{d}/features.npy").astype(np.float64)
y = np.load(f"{d}/labels.npy").astype(np.int64)
N, dim = H.shape
load = lambda name: np.load(f"{d}/{name}.npy").astype(np.float64) if meta.get(name) else None
W, b, O = load("weights"), load("bias"), load("ood")

counts = np.bincount(y, minlength=C).astype(np.float64)
mu = np.stack([H[y == c].mean(0) for c in range(C)])
muG = (counts[:, None] * mu).sum(0) / N if meta.get("weighted") else mu.mean(0)
Mt = (mu - muG).T  # d×C
Z = H - mu[y]
Sw = Z.T @ Z / N
Sb = Mt @ Mt.T / C
out = {}
# Tr(A B) = Σ A∘Bᵀ: O(d²) instead of forming the product.
out["nc1"] = float(np.sum(Sw * np.linalg.pinv(Sb, rcond=1e-10, hermitian=True).T) / C)
if meta.get("naive"):
    Sw32 = (Z.T.astype(np.float32) @ Z.astype(np.float32)) / N
    Sb32 = (Mt.astype(np.float32) @ Mt.T.astype(np.float32)) / C
    out["nc1_naive_full_pinv"] = float(np.sum(Sw32 * np.linalg.pinv(Sb32, rcond=1e-15).T) / C)
out["nc1_quotient"] = float(np.trace(Sw) / np.trace(Sb))
sig2 = np.array([((H[y == c] - mu[c]) ** 2).sum(1).mean() for c in range(C)])
pairs = [(sig2[a] + sig2[c]) / (2 * ((mu[a] - mu[c]) ** 2).sum()) for a in range(C) for c in range(a + 1, C)]
out["nc1_cdnv"] = float(np.mean(pairs))
norms = np.linalg.norm(Mt, axis=0)
out["nc2_equinorm_means"] = float(norms.std(ddof=1) / norms.mean())
G = Mt.T @ Mt
off = ~np.eye(C, dtype=bool)
out["nc2_equiangularity_means"] = float(np.abs((G / np.outer(norms, norms))[off] + 1 / (C - 1)).mean())
E = (np.eye(C) - np.ones((C, C)) / C) / np.sqrt(C - 1)
etf = lambda A: float(np.linalg.norm(A / np.linalg.norm(A) - E))
out["nc2_etf_error_means"] = etf(G)
# GNC2: population std over pairs i < j of log(1/‖û_i − û_j‖), û the unit centred means; None when a distance is 0.
U = Mt.T / norms[:, None]
logk = [-np.log(np.linalg.norm(U[a] - U[c])) for a in range(C) for c in range(a + 1, C)]
out["gnc2_hyperspherical_uniformity"] = float(np.std(logk)) if np.all(np.isfinite(logk)) else None
if W is not None:
    cosines = np.array([W[c] @ Mt[:, c] / (np.linalg.norm(W[c]) * np.linalg.norm(Mt[:, c])) for c in range(C)])
    out["unc3_uniform_duality"] = float(cosines.std(ddof=1) / abs(cosines.mean())) if cosines.mean() != 0 else None
    bb = b if b is not None else np.zeros(C)
    wn = np.linalg.norm(W, axis=1)
    out["nc2_equinorm_weights"] = float(wn.std(ddof=1) / wn.mean())
    out["nc2_etf_error_weights"] = etf(W @ W.T)
    out["nc3_self_duality"] = etf(W @ Mt)
    out["nc3_papyan"] = float(np.linalg.norm(W / np.linalg.norm(W) - Mt.T / np.linalg.norm(Mt)) ** 2)
    pred = np.argmax(H @ W.T + bb, axis=1)
    dist = (H**2).sum(1)[:, None] - 2 * H @ mu.T + (mu**2).sum(1)[None, :]
    out["nc4_ncc_agreement"] = float(np.mean(pred == np.argmin(dist, axis=1)))
    out["nc4_bias_relation"] = float(np.linalg.norm(W @ muG + bb))
if O is not None:
    muO = O.mean(0)
    cos = (mu @ muO) / (np.linalg.norm(mu, axis=1) * np.linalg.norm(muO))
    out["nc5_ood_orthogonality"] = float(np.abs(cos).mean())
print(json.dumps(out))
