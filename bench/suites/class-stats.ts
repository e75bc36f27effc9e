// classStats throughput against the machine's memory bandwidth, measured in the same run.
import { classStats } from '../../lib/index.js';
import { uniformData } from '../../test/helpers/random.js';
import { classStatsReference, withinScatterReference } from '../../test/helpers/reference.js';
import { timeIt, type BenchRow } from '../harness.js';

/** A large typed-array copy: reads and writes `bytes` each, so its traffic is 2·bytes per run. */
async function copyBandwidth(source: Float32Array): Promise<number> {
  const target = new Float32Array(source.length);
  const seconds = await timeIt(() => target.set(source), 5);
  return (2 * source.byteLength) / seconds / 1e9;
}

export async function benchClassStats(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const n = quick ? 100_000 : 1_000_000;
  const dim = 512;
  const numClasses = 10;
  const { features, labels } = uniformData(n, dim, numClasses, 7);
  const bytes = features.byteLength + labels.byteLength;
  const bandwidth = await copyBandwidth(features);

  const meansSeconds = await timeIt(() => classStats(features, labels, { numClasses, backend }));
  const meansRate = bytes / meansSeconds / 1e9;
  const rows: BenchRow[] = [
    {
      suite: 'classStats',
      case: `${backend}, means, N=${n} d=${dim} C=${numClasses}`,
      value: meansRate,
      unit: 'GB/s',
      reference: bandwidth,
      referenceName: 'typed-array copy, read+write traffic',
      ratio: meansRate / bandwidth,
      goal: '≥ 0.5 of copy bandwidth',
      met: meansRate / bandwidth >= 0.5,
    },
  ];

  // The scatter is O(N·d²) float64 work: compared, in rows per second, with the plain float64 reference
  // implementation the tests use (timed on fewer rows: it is slow).
  const scatterN = quick ? 20_000 : 200_000;
  const sub = { features: features.subarray(0, scatterN * dim), labels: labels.subarray(0, scatterN) };
  const scatterSeconds = await timeIt(() => classStats(sub.features, sub.labels, { numClasses, backend, scatter: true }), 1);
  const plainN = 500;
  const plain = { features: features.subarray(0, plainN * dim), labels: labels.subarray(0, plainN) };
  const plainSeconds = await timeIt(() => {
    const ref = classStatsReference(plain.features, plain.labels, dim, numClasses);
    withinScatterReference(plain.features, plain.labels, dim, ref.means);
  }, 1);
  const rate = scatterN / scatterSeconds;
  const plainRate = plainN / plainSeconds;
  rows.push({
    suite: 'classStats',
    case: `${backend}, means + d×d scatter, N=${scatterN} d=${dim} (${((scatterN * dim * dim) / scatterSeconds / 1e9).toFixed(1)} GFLOP/s)`,
    value: rate,
    unit: 'rows/s',
    reference: plainRate,
    referenceName: 'plain float64 TypeScript loop',
    ratio: rate / plainRate,
  });
  return rows;
}
