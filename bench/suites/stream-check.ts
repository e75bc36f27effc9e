// #11's acceptance on a file over 4 GiB (600 000 × 2048 float32, 4.9 GB, C = 1000): every NC metric (NC1–NC5, with
// a classifier and OOD features) of `ncod metrics`, and a Mahalanobis detector fitted by `ncod fit` and applied by
// `ncod score`, against a float64 NumPy streaming reference over a memory map (bench/python/nc_stream_numpy.py).
// The rows report the largest relative difference (goal ≤ 1e-9); the reference column is that goal. Timings are
// the stream suite's business, not this one's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readNpy, writeNpy } from '../../lib/data/index.js';
import { mulberry32 } from '../../lib/random.js';
import { findPython } from '../../test/helpers/python.js';
import type { BenchRow } from '../harness.js';

const D = 2048;
const C = 1000;
const GOAL = 1e-9;

function normals(n: number, seed: number, scale: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-300));
  return worst;
}

export async function benchStreamCheck(_backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const N = quick ? 50_000 : 600_000;
  const python = findPython(['numpy']);
  const dir = mkdtempSync(join(process.env.NCOD_BENCH_DIR ?? tmpdir(), 'ncod-stream-check-'));
  const f = (name: string) => join(dir, name);
  const ncod = (args: string[]) => execFileSync(process.execPath, ['bin/ncod.js', ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  try {
    execFileSync(python, ['bench/python/stream_data.py', 'features', f('x.npy'), f('y.npy'), String(N), String(D), String(C), 'float32', '2'], { stdio: 'inherit' });
    const size = `${N}×${D} float32 (${(statSync(f('x.npy')).size / 2 ** 30).toFixed(2)} GiB)`;
    await writeNpy(f('W.npy'), { dtype: 'float32', shape: [C, D], data: normals(C * D, 3, 0.05) });
    await writeNpy(f('b.npy'), { dtype: 'float32', shape: [C], data: normals(C, 4, 0.1) });
    await writeNpy(f('ood.npy'), { dtype: 'float32', shape: [2000, D], data: normals(2000 * D, 5, 2) });
    await writeNpy(f('q.npy'), { dtype: 'float32', shape: [500, D], data: normals(500 * D, 6, 3) });

    const reference = JSON.parse(
      execFileSync(
        python,
        ['bench/python/nc_stream_numpy.py', f('x.npy'), f('y.npy'), String(C), '--weights', f('W.npy'), '--bias', f('b.npy'), '--ood', f('ood.npy'), '--queries', f('q.npy'), '--ridge', '1e-6'],
        { encoding: 'utf8', maxBuffer: 256 << 20 },
      ),
    );
    const metrics = JSON.parse(ncod(['metrics', '--features', f('x.npy'), '--labels', f('y.npy'), '--weights', f('W.npy'), '--bias', f('b.npy'), '--ood-features', f('ood.npy')]));
    const keys = Object.keys(reference.metrics).filter((k) => !['n', 'dim', 'classes'].includes(k));
    const perKey = keys.map((k) => [k, worstRelative([metrics[k]], [reference.metrics[k]])] as const);
    const worstMetric = perKey.reduce((a, b) => (b[1] > a[1] ? b : a));

    ncod(['fit', '--method', 'mahalanobis', '--features', f('x.npy'), '--labels', f('y.npy'), '--out', f('m.ncod')]);
    ncod(['score', '--detector', f('m.ncod'), '--features', f('q.npy'), '--out', f('s.npy')]);
    const scores = (await readNpy(f('s.npy'))).data as Float64Array;
    const worstScore = worstRelative(scores, reference.mahalanobis);

    const row = (what: string, value: number): BenchRow => ({
      suite: 'stream-check',
      case: `${what}, ${size}, C = ${C}, vs a float64 NumPy memmap pass (reference: the goal)`,
      value,
      unit: 'relative difference',
      reference: GOAL,
      referenceName: 'goal',
      ratio: GOAL / Math.max(value, 1e-300),
      goal: `≤ ${GOAL}`,
      met: value <= GOAL,
    });
    return [
      row(`ncod metrics: the largest of ${keys.length} metrics' differences (${worstMetric[0]}; nc4_ncc_agreement ${metrics.nc4_ncc_agreement} vs ${reference.metrics.nc4_ncc_agreement})`, worstMetric[1]),
      row('ncod fit --method mahalanobis + ncod score: 500 query scores', worstScore),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
