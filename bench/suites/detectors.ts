// OOD detectors against the machine's memory bandwidth and PyTorch references, all measured in the same run
// (bench/python/detectors_torch.py documents exactly what each PyTorch reference does).
//   Energy from N×1000 logits: GB/s of logits read vs a typed-array copy; torch.logsumexp for information.
//   Exact KNN (k = 50, cosine): vs PyTorch brute force (q @ Xᵀ in query blocks + topk); scores must agree.
//   Mahalanobis (tied covariance): fit and score vs PyTorch matmul/inv; scores must agree.
import { detectors } from '../../lib/index.js';
import { copyBandwidth, gaussianClusters, logLoad, normalArray, runPython, withNpyDir } from '../data.js';
import { timeIt, type BenchRow } from '../harness.js';

const TORCH = ['torch', 'numpy'];
const fmt = (x: number) => x.toLocaleString('en-US').replace(/,/g, ' ');

/**
 * N×C logits: class-cluster style rows (N(0, 2²) noise plus +6 on the row's "class" c = i mod C), generated for
 * the first `block` rows and tiled to N rows (the energy kernel's speed does not depend on the values;
 * generating 10^9 Box–Muller normals in JS would take minutes).
 */
function makeLogits(n: number, C: number, seed: number): Float32Array {
  const block = Math.min(n, 100_000);
  const logits = new Float32Array(n * C);
  const first = normalArray(block * C, seed, 2);
  for (let i = 0; i < block; i++) first[i * C + (i % C)] += 6;
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    logits.set(first.subarray(0, rows * C), start * C);
  }
  return logits;
}

export async function benchDetectors(backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // 1. Energy.
  {
    const n = quick ? 100_000 : 1_000_000;
    const C = 1000;
    const logits = makeLogits(n, C, 31);
    const bytes = logits.byteLength;
    const name = `${backend}, energy (T = 1), N=${fmt(n)} C=${C} (${(bytes / 1e9).toFixed(1)} GB float32)`;
    logLoad(`detectors: ${name}: start`);
    const detector = detectors.energy({ temperature: 1, backend });
    const seconds = await timeIt(() => detector.score({ logits, numClasses: C }), 3);
    const ours = await detector.score({ logits, numClasses: C });
    // The copy baseline on a 400 MB slice (10^5 rows; far beyond any cache), so the run needs no second 4 GB array.
    const copyElems = Math.min(logits.length, 100_000 * C);
    const bandwidth = await copyBandwidth(logits.subarray(0, copyElems));
    const rate = bytes / seconds / 1e9;
    const torch = await withNpyDir({ logits: { dtype: 'float32', shape: [n, C], data: logits } }, (dir) =>
      runPython('detectors_torch.py', [dir, 'energy', '3'], TORCH),
    );
    logLoad(`detectors: ${name}: end`);
    let diff = 0;
    for (let i = 0; i < torch.scores.length; i++) diff = Math.max(diff, Math.abs(ours[i] - torch.scores[i]));
    const agree = diff < 1e-3;
    console.error(`detectors: energy: max |ncod − torch.logsumexp| over the first ${torch.scores.length} rows: ${diff.toExponential(2)}`);
    const mark = agree ? '' : ` [DISAGREES with torch.logsumexp: max abs diff ${diff.toExponential(1)}]`;
    rows.push({
      suite: 'detectors',
      case: `${name}, logits bytes / time vs copy of ${(copyElems * 4 / 1e6).toFixed(0)} MB${mark}`,
      value: rate,
      unit: 'GB/s',
      reference: bandwidth,
      referenceName: 'typed-array copy, read+write traffic',
      ratio: rate / bandwidth,
      goal: '≥ 0.5 of copy bandwidth',
      met: agree && rate / bandwidth >= 0.5,
    });
    rows.push({
      suite: 'detectors',
      case: `${name}, vs torch.logsumexp(logits, 1) (information; max abs diff ${diff.toExponential(1)} on 1000 rows)${mark}`,
      value: seconds,
      unit: 's',
      reference: torch.seconds,
      referenceName: `PyTorch ${torch.torch}, torch.logsumexp, ${torch.threads} threads`,
      ratio: torch.seconds / seconds,
    });
  }

  // Shared features for KNN and Mahalanobis: Gaussian class clusters, fit rows then query rows (same means).
  const nFit = quick ? 6_000 : 60_000;
  const nQuery = quick ? 1_000 : 10_000;
  const dim = 512;
  const C = 10;
  const { features, labels } = gaussianClusters(nFit + nQuery, dim, C, 41);
  const fit = features.subarray(0, nFit * dim);
  const fitLabels = labels.subarray(0, nFit);
  const queries = features.subarray(nFit * dim);
  const arrays = {
    fit: { dtype: 'float32' as const, shape: [nFit, dim], data: fit },
    labels: { dtype: 'int32' as const, shape: [nFit], data: fitLabels },
    queries: { dtype: 'float32' as const, shape: [nQuery, dim], data: queries },
  };
  const shape = `${fmt(nQuery)} queries vs ${fmt(nFit)}×${dim} fit, C=${C}`;

  // 2. KNN.
  {
    const k = 50;
    const name = `${backend}, KNN exact k=${k} cosine, ${shape}`;
    logLoad(`detectors: ${name}: start`);
    const detector = await detectors.knn({ k, backend }).fit({ features: fit, dim });
    const seconds = await timeIt(() => detector.score(queries), 3);
    const ours = await detector.score(queries);
    const torch = await withNpyDir(arrays, (dir) => runPython('detectors_torch.py', [dir, 'knn', `${k}`, '3'], TORCH));
    logLoad(`detectors: ${name}: end`);
    let diff = 0;
    for (let i = 0; i < nQuery; i++) diff = Math.max(diff, Math.abs(ours[i] - torch.scores[i]));
    const agree = diff < 1e-4;
    console.error(`detectors: knn: max |ncod − PyTorch| k-th similarity over ${nQuery} queries: ${diff.toExponential(2)} (tolerance 1e-4)`);
    if (!agree) console.error(`\n!!! detectors: knn: ncod DISAGREES with PyTorch (max abs diff ${diff}) !!!\n`);
    const mark = agree ? '' : ` [DISAGREES with PyTorch: max abs diff ${diff.toExponential(1)}]`;
    rows.push({
      suite: 'detectors',
      case: `${name}, score time (fit excluded), max abs diff ${diff.toExponential(1)}${mark}`,
      value: seconds,
      unit: 's',
      reference: torch.seconds,
      referenceName: `PyTorch ${torch.torch} brute force (normalise, q @ Xᵀ per 1024 queries, topk), ${torch.threads} threads`,
      ratio: torch.seconds / seconds,
      goal: '≥ 2×',
      met: agree && torch.seconds / seconds >= 2,
    });
  }

  // 3. Mahalanobis.
  {
    const name = `${backend}, Mahalanobis (tied), ${shape}`;
    logLoad(`detectors: ${name}: start`);
    let detector = detectors.mahalanobis({ backend });
    const fitSeconds = await timeIt(async () => {
      detector = await detectors.mahalanobis({ backend }).fit({ features: fit, labels: fitLabels, numClasses: C, dim });
    }, 3);
    const seconds = await timeIt(() => detector.score(queries), 3);
    const ours = await detector.score(queries);
    const torch = await withNpyDir(arrays, (dir) => runPython('detectors_torch.py', [dir, 'mahalanobis', `${C}`, '3'], TORCH));
    logLoad(`detectors: ${name}: end`);
    let rel = 0;
    for (let i = 0; i < nQuery; i++) rel = Math.max(rel, Math.abs(ours[i] - torch.scores[i]) / Math.max(Math.abs(torch.scores[i]), 1e-12));
    const agree = rel < 1e-3;
    console.error(`detectors: mahalanobis: max rel. diff ncod vs PyTorch over ${nQuery} queries: ${rel.toExponential(2)} (tolerance 1e-3)`);
    if (!agree) console.error(`\n!!! detectors: mahalanobis: ncod DISAGREES with PyTorch (max rel. diff ${rel}) !!!\n`);
    const mark = agree ? '' : ` [DISAGREES with PyTorch: max rel. diff ${rel.toExponential(1)}]`;
    const referenceName = `PyTorch ${torch.torch}, ${torch.threads} threads`;
    rows.push({
      suite: 'detectors',
      case: `${name}, fit (ncod: relative ridge 1e-6; PyTorch: one-hot means, ZᵀZ/N, linalg.inv)${mark}`,
      value: fitSeconds,
      unit: 's',
      reference: torch.fit_seconds,
      referenceName,
      ratio: torch.fit_seconds / fitSeconds,
    });
    rows.push({
      suite: 'detectors',
      case: `${name}, score (PyTorch: xᵀΣ⁻¹x − 2xᵀΣ⁻¹μ_c + μ_cᵀΣ⁻¹μ_c by matmuls), max rel. diff ${rel.toExponential(1)}${mark}`,
      value: seconds,
      unit: 's',
      reference: torch.seconds,
      referenceName,
      ratio: torch.seconds / seconds,
    });
  }
  return rows;
}
