// KNN scored the way `ncod score` scores a feature file: query chunks of 32 MiB against one fitted bank
// (60 000×512, k = 50). The bank is prepared once per detector (native/core/detectors/knn_bank.h), so the chunked
// run should cost what one call over every query costs; the reference is that one call, in the same run.
import { detectors } from '../../lib/index.js';
import type { BenchRow } from '../harness.js';

function uniform(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  return out;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchKnnChunks(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const dim = 512;
  const nFit = 60_000;
  const nQuery = quick ? 20_000 : 1_000_000; // the size (#14); quick for a shared machine
  const detector = await detectors.knn({ k: 50, backend }).fit({ features: uniform(nFit * dim, 1), dim });
  const queries = uniform(nQuery * dim, 2);
  const chunk = (32 << 20) / (dim * 4);
  const chunked = await seconds(async () => {
    for (let start = 0; start < nQuery; start += chunk) await detector.score(queries.subarray(start * dim, Math.min(nQuery, start + chunk) * dim));
  });
  const whole = await seconds(() => detector.score(queries));
  detector.dispose();
  return [
    {
      suite: 'knn-chunks',
      case: `${backend}, KNN k=50, ${nQuery} queries in 32 MiB chunks vs a ${nFit}×${dim} bank, score time`,
      value: chunked,
      unit: 's',
      reference: whole,
      referenceName: 'the same queries in one score() call',
      ratio: whole / chunked,
      goal: '≥ 0.95× (no per-chunk preparation of the bank)',
      met: whole / chunked >= 0.95,
    },
  ];
}
