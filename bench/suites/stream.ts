// `ncod metrics` streaming files larger than memory lets it hold: ImageNet-1k's scale, 1 281 167 × 2048 float32
// (10.5 GB) with C = 1000 classes, generated with class structure by bench/python/stream_data.py. Against, in the
// same run:
//   - a roofline: the larger of reading the file from the page cache (`cat`) and the syrk time of the same flops
//     (N·d²) at the machine's measured float64 GEMM rate (NumPy's A.T @ A on one chunk); goal within 2×;
//   - peak RSS (goal ≤ 1.5 GB);
//   - a float64 NumPy pass over a memory map computing the same moments (goal ncod ≥ 5× faster), whose metrics are
//     also the correctness reference (1e-9 relative);
//   - the same file in float16, the float32 file as 8 shards, and the float32 file under a 2 GiB memory cgroup
//     with the page cache dropped (bounded RSS, time against `cat` under the same limit).
// Needs `npm run build:ts` (it runs bin/ncod.js), GNU time, python3 with NumPy, ~30 GB of free disk; the cgroup case
// needs root and cgroup v1 (skipped, with the reason in the case name, otherwise). `--quick` shrinks N to 100 000.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { findPython } from '../../test/helpers/python.js';
import type { BenchRow } from '../harness.js';

const D = 2048;
const C = 1000;
const CGROUP_LIMIT = 2 * 2 ** 30;
const METRIC_KEYS = ['nc1', 'nc1_quotient', 'nc1_cdnv', 'nc2_equinorm_means', 'nc2_equiangularity_means', 'nc2_etf_error_means'];

interface Timed {
  seconds: number;
  maxRssBytes: number;
  stdout: string;
}

/** Runs a command under GNU time: wall seconds and peak RSS, optionally inside a memory cgroup. */
function timed(command: string[], cgroup?: string): Timed {
  const statFile = join(tmpdir(), `ncod-bench-time-${process.pid}`);
  const wrapped = ['/usr/bin/time', '-o', statFile, '-f', '%e %M', ...command];
  const argv = cgroup ? ['sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh', ...wrapped] : wrapped;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${command.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [seconds, kb] = readFileSync(statFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(statFile);
  return { seconds, maxRssBytes: kb * 1024, stdout: r.stdout };
}

function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

/** A child memory cgroup (v1) limited to `bytes`, or the reason there is none. */
function memoryCgroup(bytes: number): { path: string } | { reason: string } {
  try {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /:memory:/.test(l));
    if (!own) return { reason: 'no cgroup v1 memory controller' };
    const path = join('/sys/fs/cgroup/memory', own.split(':')[2], `ncod-bench-${process.pid}`);
    mkdirSync(path);
    writeFileSync(join(path, 'memory.limit_in_bytes'), String(bytes));
    return { path };
  } catch (error) {
    return { reason: `cannot create a memory cgroup (${(error as Error).message.split('\n')[0]})` };
  }
}

const GB = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

export async function benchStream(_backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const N = quick ? 100_000 : 1_281_167;
  const python = findPython(['numpy']);
  const dir = mkdtempSync(join(process.env.NCOD_BENCH_DIR ?? tmpdir(), 'ncod-stream-'));
  const script = (name: string) => join('bench', 'python', name);
  const ncod = (args: string[]) => [process.execPath, 'bin/ncod.js', 'metrics', ...args, '--json'];
  const x = join(dir, 'x.npy');
  const y = join(dir, 'y.npy');
  const rows: BenchRow[] = [];
  try {
    execFileSync(python, [script('stream_data.py'), 'features', x, y, String(N), String(D), String(C), 'float32', '1'], { stdio: 'inherit' });
    const bytes = statSync(x).size;
    const scale = `${N}×${D} float32 (${GB(bytes)}), C = ${C}`;

    // The roofline's two parts, measured now: the file from the page cache, and float64 syrk at NumPy's rate.
    timed(['sh', '-c', `cat '${x}' > /dev/null`]); // warm the page cache
    const cat = timed(['sh', '-c', `cat '${x}' > /dev/null`]).seconds;
    const numpy = JSON.parse(execFileSync(python, [script('nc_stream_numpy.py'), x, y, String(C)], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const gemmSeconds = (N * D * D) / numpy.gemm_flops_per_s;
    const roofline = Math.max(cat, gemmSeconds);

    const run = timed(ncod(['--features', x, '--labels', y]));
    const metrics = JSON.parse(run.stdout);
    const worst = Math.max(...METRIC_KEYS.map((k) => Math.abs(metrics[k] - numpy.metrics[k]) / Math.abs(numpy.metrics[k])));
    const agreement = `largest relative difference from NumPy's float64 metrics ${worst.toExponential(1)} (goal ≤ 1e-9: ${worst <= 1e-9 ? 'met' : 'not met'})`;
    rows.push(
      {
        suite: 'stream',
        case: `ncod metrics, ${scale}, page cache warm: vs max(cat ${cat.toFixed(1)} s, syrk of N·d² at ${(numpy.gemm_flops_per_s / 1e9).toFixed(0)} GFLOP/s = ${gemmSeconds.toFixed(1)} s); ${agreement}`,
        value: run.seconds,
        unit: 's',
        reference: roofline,
        referenceName: 'roofline',
        ratio: roofline / run.seconds,
        goal: 'within 2× of the roofline',
        met: run.seconds <= 2 * roofline,
      },
      {
        suite: 'stream',
        case: `ncod metrics peak RSS, ${scale}`,
        value: run.maxRssBytes / 1e9,
        unit: 'GB',
        reference: 1.5,
        referenceName: 'the goal',
        ratio: 1.5 / (run.maxRssBytes / 1e9),
        goal: '≤ 1.5 GB',
        met: run.maxRssBytes <= 1.5e9,
      },
      {
        suite: 'stream',
        case: `ncod metrics vs a float64 NumPy pass over a memory map (the same moments; its own loop ${numpy.seconds.toFixed(1)} s), ${scale}`,
        value: run.seconds,
        unit: 's',
        reference: numpy.seconds,
        referenceName: 'NumPy float64 memmap pass',
        ratio: numpy.seconds / run.seconds,
        goal: '≥ 5× faster',
        met: numpy.seconds >= 5 * run.seconds,
      },
    );

    // Larger than the memory it may use: 2 GiB for a 10.5 GB file, the page cache dropped first.
    const cgroup = memoryCgroup(CGROUP_LIMIT);
    if ('path' in cgroup && dropPageCache()) {
      const catLimited = timed(['sh', '-c', `cat '${x}' > /dev/null`], cgroup.path).seconds;
      dropPageCache();
      const limited = timed(ncod(['--features', x, '--labels', y]), cgroup.path);
      rows.push({
        suite: 'stream',
        case: `ncod metrics in a ${GB(CGROUP_LIMIT)} memory cgroup, page cache dropped, ${scale} (peak RSS ${GB(limited.maxRssBytes)}); reference cat in the same cgroup`,
        value: limited.seconds,
        unit: 's',
        reference: catLimited,
        referenceName: 'cat file > /dev/null',
        ratio: catLimited / limited.seconds,
      });
      rmdirSync(cgroup.path);
    } else {
      console.error(`stream: no memory-limited run: ${'reason' in cgroup ? cgroup.reason : 'cannot drop the page cache (not root)'}`);
    }

    // The same rows as 8 shards (features and labels), then in float16.
    const shards = join(dir, 'shards');
    mkdirSync(shards);
    execFileSync(python, [script('stream_data.py'), 'shards', x, y, shards, '8'], { stdio: 'inherit' });
    timed(['sh', '-c', `cat '${shards}'/part-*.npy > /dev/null`]);
    const sharded = timed(ncod(['--features', join(shards, 'part-*.npy'), '--labels', join(shards, 'labels-*.npy')]));
    rmSync(shards, { recursive: true });
    rows.push({
      suite: 'stream',
      case: `ncod metrics, the same rows as 8 shard files (glob), page cache warm (peak RSS ${GB(sharded.maxRssBytes)})`,
      value: sharded.seconds,
      unit: 's',
      reference: run.seconds,
      referenceName: 'one file',
      ratio: run.seconds / sharded.seconds,
    });
    rmSync(x);
    const x16 = join(dir, 'x16.npy');
    execFileSync(python, [script('stream_data.py'), 'features', x16, y, String(N), String(D), String(C), 'float16', '1'], { stdio: 'inherit' });
    timed(['sh', '-c', `cat '${x16}' > /dev/null`]);
    const half = timed(ncod(['--features', x16, '--labels', y]));
    rows.push({
      suite: 'stream',
      case: `ncod metrics, ${N}×${D} float16 (${GB(statSync(x16).size)}), page cache warm (peak RSS ${GB(half.maxRssBytes)})`,
      value: half.seconds,
      unit: 's',
      reference: run.seconds,
      referenceName: 'the float32 file',
      ratio: run.seconds / half.seconds,
    });
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
