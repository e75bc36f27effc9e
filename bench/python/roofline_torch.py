"""Float32 matrix-multiply throughput of this machine: torch.mm of two 4096×4096 float32 matrices, all cores,
median of 3 runs after a warm-up. Prints {"gflops": ..., "threads": ...}."""
import json
import os
import statistics
import time

import torch

torch.set_num_threads(os.cpu_count())
n = 4096
a, b = torch.randn(n, n), torch.randn(n, n)
out = torch.empty(n, n)
torch.mm(a, b, out=out)
times = []
for _ in range(3):
    t0 = time.perf_counter()
    torch.mm(a, b, out=out)
    times.append(time.perf_counter() - t0)
print(json.dumps({"gflops": 2 * n**3 / statistics.median(times) / 1e9, "threads": torch.get_num_threads()}))
