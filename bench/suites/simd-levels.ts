// The kernels that have a body per SIMD level (the exp of Energy/MSP/GEN, the KNN filter: AVX512-BF16 products
// or float32 GEMM tiles) at every level this CPU supports, each in its own process with NCOD_SIMD set, against the
// best level. Scores must agree across levels to 1e-12 relative (the float64 sums run in different orders). Below
// AVX512-BF16 the KNN filter is float32 GEMM tiles, so that level's KNN is also measured against the bare GEMM of the
// same tiles in numpy (bench/python/sgemm_tiles_numpy.py): the most any float32 path can reach on this CPU.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { simdInfo } from '../../lib/index.js';
import { runPython } from '../data.js';
import type { BenchRow } from '../harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface LevelRun {
  simd: { level: string; bf16: boolean };
  energy: { rows: number; classes: number; seconds: number; gbPerSecond: number; scores: number[] };
  knn: { fit: number; queries: number; dim: number; k: number; seconds: number; scores: number[] };
}

function runLevel(level: string, quick: boolean): LevelRun {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/simd-child.ts', ...(quick ? ['--quick'] : [])], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NCOD_SIMD: level },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as LevelRun;
}

const maxRelDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-300)), 0);

export async function benchSimdLevels(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  if (backend !== 'cpu') return [];
  const levels = simdInfo().supported;
  const runs = levels.map((level) => ({ level, run: runLevel(level, quick) }));
  const best = runs[runs.length - 1];
  const name = (r: LevelRun) => `${r.simd.level}${r.simd.bf16 ? ' + bf16' : ''}`;
  const rows: BenchRow[] = [];
  for (const { run } of runs.slice(0, -1)) {
    const energyDiff = maxRelDiff(run.energy.scores, best.run.energy.scores);
    const knnDiff = maxRelDiff(run.knn.scores, best.run.knn.scores);
    const knnSame = knnDiff < 1e-12;
    const e = run.energy;
    rows.push({
      suite: 'simd-levels',
      case: `energy (T = 1), N=${e.rows} C=${e.classes}, ${name(run)} vs ${name(best.run)} (max rel diff ${energyDiff.toExponential(1)})`,
      value: e.gbPerSecond,
      unit: 'GB/s',
      reference: best.run.energy.gbPerSecond,
      referenceName: `the same at ${name(best.run)}`,
      ratio: e.gbPerSecond / best.run.energy.gbPerSecond,
      goal: run.simd.level === 'avx2' ? '≥ 0.5 of the best level (comparable speed)' : undefined,
      met: run.simd.level === 'avx2' ? energyDiff < 1e-12 && e.gbPerSecond / best.run.energy.gbPerSecond >= 0.5 : undefined,
    });
    const k = run.knn;
    rows.push({
      suite: 'simd-levels',
      case: `KNN exact k=${k.k}, ${k.queries} queries vs ${k.fit}×${k.dim}, ${name(run)} vs ${name(best.run)} (max rel diff ${knnDiff.toExponential(1)}${knnSame ? '' : ', DIFFER'})`,
      value: k.seconds,
      unit: 's',
      reference: best.run.knn.seconds,
      referenceName: `the same at ${name(best.run)}`,
      ratio: best.run.knn.seconds / k.seconds,
      goal: run.simd.level === 'avx2' ? '≥ 0.5 of the best level (comparable speed)' : undefined,
      met: run.simd.level === 'avx2' ? knnSame && best.run.knn.seconds / k.seconds >= 0.5 : undefined,
    });
  }
  const gemmLevel = runs.find(({ run }) => run.simd.level === 'avx2')?.run;
  if (gemmLevel) {
    const k = gemmLevel.knn;
    const gemm = runPython('sgemm_tiles_numpy.py', [String(k.queries), String(k.fit), String(k.dim)], ['numpy']);
    const gflops = (2 * k.queries * k.fit * k.dim) / k.seconds / 1e9;
    rows.push({
      suite: 'simd-levels',
      case: `KNN exact k=${k.k} at ${name(gemmLevel)} as float32 GEMM-equivalent GFLOP/s, vs numpy's float32 GEMM of the same 2048-row tiles alone (${gemm.blas}, core ${gemm.coretype ?? 'own choice'}, ${gemm.threads} threads)`,
      value: gflops,
      unit: 'GFLOP/s',
      reference: gemm.gflops,
      referenceName: 'numpy float32 matmul of the tiles (roofline of a float32 filter)',
      ratio: gflops / gemm.gflops,
      goal: '≥ 0.8 (the filter and the float64 re-ranking cost little beyond the GEMM)',
      met: gflops / gemm.gflops >= 0.8,
    });
  }
  return rows;
}
