# python3 bench/python/knn_big_bank.py make DIR          then   ncod score --method knn --k 50 --fit-features DIR/bank.npy
#   --features DIR/queries.npy --out DIR/scores.npy      then   python3 bench/python/knn_big_bank.py check DIR DIR/scores.npy
# A KNN bank above 4 GiB (2 200 000 x 512 float32 = 4.51 GB, written through a memmap) and 200 queries, and the
# float64 reference: the k-th largest cosine similarity of each query over every bank row, in chunks.
import sys, time, numpy as np
from numpy.lib.format import open_memmap
d, n, q, k = 512, 2_200_000, 200, 50
mode, out = sys.argv[1], sys.argv[2]
if mode == 'make':
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, d)).astype(np.float32)
    x = open_memmap(f'{out}/bank.npy', mode='w+', dtype='<f4', shape=(n, d))
    step = 100_000
    for s in range(0, n, step):
        e = min(n, s + step)
        x[s:e] = centres[rng.integers(0, 20, e - s)] + rng.standard_normal((e - s, d), dtype=np.float32)
    x.flush()
    qs = centres[rng.integers(0, 20, q)] + 1.5 * rng.standard_normal((q, d), dtype=np.float32)
    np.save(f'{out}/queries.npy', qs.astype('<f4'))
elif mode == 'check':
    t = time.time()
    x = np.load(f'{out}/bank.npy', mmap_mode='r')
    qs = np.load(f'{out}/queries.npy').astype(np.float64)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    best = np.full((q, k), -np.inf)
    for s in range(0, n, 200_000):
        b = np.asarray(x[s:s + 200_000], dtype=np.float64)
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        sims = qs @ b.T
        both = np.concatenate([best, sims], axis=1)
        best = -np.sort(-both, axis=1)[:, :k]
    ref = best[:, k - 1]
    mine = np.load(sys.argv[3])
    rel = np.max(np.abs(mine - ref) / np.abs(ref))
    print(f'reference {time.time() - t:.1f} s; max relative difference {rel:.3e} over {q} queries')
