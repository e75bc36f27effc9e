// ncMetrics (the full NC suite with weights and bias) against two PyTorch implementations of the same
// metrics and against a roofline, all measured in the same run (bench/python/nc_torch.py, roofline_torch.py).
import { ncMetrics, type NcMetrics } from '../../lib/index.js';
import { copyBandwidth, gaussianClusters, logLoad, normalArray, runPython, withNpyDir } from '../data.js';
import { timeIt, type BenchRow } from '../harness.js';

interface Case {
  n: number;
  dim: number;
  numClasses: number;
  /** Rows the reference-code algorithm is timed on (it is O(N·d²) with a large constant). */
  referenceRows: number;
  /** Timed runs after the warm-up for the good PyTorch (ncod: always 3). */
  repeats: number;
}

const QUICK: Case[] = [{ n: 6_000, dim: 256, numClasses: 10, referenceRows: 6_000, repeats: 3 }];
const FULL: Case[] = [
  { n: 60_000, dim: 512, numClasses: 10, referenceRows: 60_000, repeats: 3 },
  { n: 200_000, dim: 2048, numClasses: 100, referenceRows: 20_000, repeats: 1 },
];

const TORCH = ['torch', 'numpy'];
const fmt = (x: number) => x.toLocaleString('en-US').replace(/,/g, ' ');
const sec = (x: number) => `${x.toPrecision(3)} s`;

export async function benchNcMetrics(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const gemmGflops: number = runPython('roofline_torch.py', [], TORCH).gflops;
  const rows: BenchRow[] = [];
  for (const { n, dim, numClasses: C, referenceRows, repeats } of quick ? QUICK : FULL) {
    const name = `${backend}, N=${n} d=${dim} C=${C}`;
    const { features, labels } = gaussianClusters(n, dim, C, 21);
    const weights = normalArray(C * dim, 22, 1 / Math.sqrt(dim));
    const bias = normalArray(C, 23, 0.1);
    const options = { features, labels, numClasses: C, weights, bias, backend };
    logLoad(`nc: ${name}: start`);

    const seconds = await timeIt(() => ncMetrics(options), 3);
    const ours = await ncMetrics(options);
    const bandwidth = await copyBandwidth(features);

    const arrays = {
      features: { dtype: 'float32' as const, shape: [n, dim], data: features },
      labels: { dtype: 'int32' as const, shape: [n], data: labels },
      weights: { dtype: 'float32' as const, shape: [C, dim], data: weights },
      bias: { dtype: 'float32' as const, shape: [C], data: bias },
    };
    const { good, reference } = await withNpyDir(arrays, (dir) => ({
      good: runPython('nc_torch.py', [dir, `${C}`, 'good', `${n}`, `${repeats}`], TORCH),
      reference: runPython('nc_torch.py', [dir, `${C}`, 'reference', `${referenceRows}`], TORCH),
    }));

    logLoad(`nc: ${name}: end`);

    // A comparison of different answers is meaningless: check NC1 (and report the other metrics).
    const nc1Error = Math.abs((ours.nc1 ?? NaN) - good.metrics.nc1) / Math.abs(good.metrics.nc1);
    const agree = nc1Error <= 1e-3;
    console.error(
      `nc: ${name}: nc1 ncod ${ours.nc1} | good PyTorch ${good.metrics.nc1} (rel. diff ${nc1Error.toExponential(1)}) | ` +
        `reference-code algorithm ${reference.metrics.nc1} on ${fmt(referenceRows)} rows; ` +
        `largest rel. diff of the other metrics vs good PyTorch: ${worstOther(ours, good.metrics)}`,
    );
    if (!agree) console.error(`\n!!! nc: ${name}: ncod's NC1 DISAGREES with PyTorch's (rel. diff ${nc1Error}) !!!\n`);
    const mark = agree ? '' : ` [NC1 DISAGREES with PyTorch: rel. diff ${nc1Error.toExponential(1)}]`;

    // The reference-code algorithm: its passes scale linearly with N; the pinv and the rest do not.
    const partial = referenceRows < n;
    const referenceSeconds = partial
      ? (reference.pass_seconds * n) / referenceRows + reference.fixed_seconds
      : reference.seconds;
    const extrapolated = partial
      ? `, passes timed on the first ${fmt(referenceRows)} of ${fmt(n)} rows (${((reference.pass_seconds / referenceRows) * 1e3).toFixed(2)} ms/row) ` +
        `and extrapolated linearly; pinv and the rest measured (${sec(reference.fixed_seconds)})`
      : '';
    rows.push({
      suite: 'nc',
      case: `${name}, vs the reference code's algorithm (per-sample d×d outer products, full d×d pinv)${extrapolated}${mark}`,
      value: seconds,
      unit: 's',
      reference: referenceSeconds,
      referenceName: `PyTorch 1.13, reference code's algorithm${partial ? ', EXTRAPOLATED' : ''}`,
      ratio: referenceSeconds / seconds,
      goal: '≥ 10×',
      met: agree && referenceSeconds / seconds >= 10,
    });
    rows.push({
      suite: 'nc',
      case: `${name}, vs good PyTorch (one-hot matmul means, pooled ZᵀZ, Hermitian pinv)${mark}`,
      value: seconds,
      unit: 's',
      reference: good.seconds,
      referenceName: `PyTorch 1.13, vectorised, ${good.threads} threads`,
      ratio: good.seconds / seconds,
      goal: '≥ 3×',
      met: agree && good.seconds / seconds >= 3,
    });

    // Roofline of ncod's algorithm: two passes reading the features, plus its GEMMs with p = (C−1) + 2C
    // columns (the Σ_B range projections, W h, and the class-mean scores). Not overlapped: sum.
    if (backend === 'cpu') {
      const memorySeconds = (2 * n * dim * 4) / (bandwidth * 1e9);
      const p = C - 1 + 2 * C;
      const gemmSeconds = (2 * n * dim * p) / (gemmGflops * 1e9);
      const roofline = memorySeconds + gemmSeconds;
      rows.push({
        suite: 'nc',
        case:
          `${name}, vs roofline = 2 passes × N·d·4 B at ${bandwidth.toFixed(1)} GB/s copy bandwidth (${sec(memorySeconds)}) ` +
          `+ 2·N·d·${p} flop at ${gemmGflops.toFixed(0)} GFLOP/s torch.mm 4096² (${sec(gemmSeconds)}), summed ` +
          `(max would be ${sec(Math.max(memorySeconds, gemmSeconds))})`,
        value: seconds,
        unit: 's',
        reference: roofline,
        referenceName: 'roofline, sum of memory and GEMM time',
        ratio: roofline / seconds,
        goal: '≥ 0.5 (within 2×)',
        met: roofline / seconds >= 0.5,
      });
    }
  }
  return rows;
}

/** "name rel. diff" of the metric (other than nc1) where ncod and PyTorch differ most. */
function worstOther(ours: NcMetrics, theirs: Record<string, number>): string {
  let worst = '';
  let worstError = -1;
  for (const [key, value] of Object.entries(theirs)) {
    if (key === 'nc1') continue;
    const mine = ours[key as keyof NcMetrics] as number;
    const error = Math.abs(mine - value) / Math.max(Math.abs(value), 1e-12);
    if (!(error <= worstError)) {
      worst = key;
      worstError = error;
    }
  }
  return `${worst} ${worstError.toExponential(1)}`;
}
