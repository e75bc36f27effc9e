"""The float32 GEMM that ncod's exact KNN filter runs below AVX512-BF16, alone: queries (Q×d) times every 2048-row
tile of a bank (N×d), transposed, as native/cpu/knn.cpp calls cblas_sgemm, with numpy's OpenBLAS on all cores;
median of 3 runs after a warm-up. A roofline for the filter: it cannot be faster than the products it filters.
  python3 sgemm_tiles_numpy.py Q N D   ->  {"seconds": ..., "gflops": ..., "blas": ..., "threads": ...}"""
import json
import os
import statistics
import sys
import time

import numpy as np

q_rows, n, d = (int(a) for a in sys.argv[1:4])
tile = 2048
rng = np.random.default_rng(0)
queries = rng.standard_normal((q_rows, d), dtype=np.float32)
bank = rng.standard_normal((n, d), dtype=np.float32)
out = np.empty((q_rows, tile), dtype=np.float32)


def run():
    for t in range(0, n, tile):
        b = bank[t:t + tile]
        np.matmul(queries, b.T, out=out[:, :b.shape[0]])


run()
times = []
for _ in range(3):
    t0 = time.perf_counter()
    run()
    times.append(time.perf_counter() - t0)
seconds = statistics.median(times)
try:
    config = np.show_config(mode='dicts')['Build Dependencies']['blas']
    blas = f"{config.get('name')} {config.get('version')}"
except Exception:  # older numpy: no dict mode
    blas = 'unknown'
# OpenBLAS's own pool: its variable, else OpenMP's, else every core (what OpenBLAS itself reads, in that order).
threads = int(os.environ.get('OPENBLAS_NUM_THREADS') or os.environ.get('OMP_NUM_THREADS') or os.cpu_count())
print(json.dumps({"seconds": seconds, "gflops": 2 * q_rows * n * d / seconds / 1e9, "blas": blas,
                  "coretype": os.environ.get('OPENBLAS_CORETYPE'), "threads": threads}))
