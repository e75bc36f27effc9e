"""Writes the streaming benchmark's data: N×D features with class structure (class means plus unit noise), as
PyTorch users export them, without ever holding them in memory.

  python3 stream_data.py features OUT.npy LABELS.npy N D C DTYPE SEED   float32/float16 features, int64 labels
  python3 stream_data.py shards IN.npy LABELS.npy OUTDIR K             the same rows as K shard files each
"""
import sys

import numpy as np

CHUNK = 65536


def features(out, labels_out, n, d, c, dtype, seed):
    rng = np.random.default_rng(seed)
    means = (3 * rng.standard_normal((c, d))).astype(np.float32)
    labels = rng.integers(0, c, size=n, dtype=np.int64)
    np.save(labels_out, labels)
    x = np.lib.format.open_memmap(out, mode="w+", dtype=np.dtype(dtype), shape=(n, d))
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        x[a:b] = means[labels[a:b]] + rng.standard_normal((b - a, d), dtype=np.float32)
    x.flush()
    del x


def shards(src, labels_src, outdir, k):
    x = np.load(src, mmap_mode="r")
    y = np.load(labels_src)
    cuts = np.linspace(0, len(y), k + 1).astype(np.int64)
    for i in range(k):
        a, b = int(cuts[i]), int(cuts[i + 1])
        part = np.lib.format.open_memmap(f"{outdir}/part-{i}.npy", mode="w+", dtype=x.dtype, shape=(b - a, x.shape[1]))
        for s in range(a, b, CHUNK):
            e = min(b, s + CHUNK)
            part[s - a : e - a] = x[s:e]
        part.flush()
        del part
        np.save(f"{outdir}/labels-{i}.npy", y[a:b])


if __name__ == "__main__":
    if sys.argv[1] == "features":
        out, labels_out, n, d, c, dtype, seed = sys.argv[2:9]
        features(out, labels_out, int(n), int(d), int(c), dtype, int(seed))
    else:
        src, labels_src, outdir, k = sys.argv[2:6]
        shards(src, labels_src, outdir, int(k))
