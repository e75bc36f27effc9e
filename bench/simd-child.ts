// One SIMD level's kernel timings, run by bench/suites/simd-levels.ts in a child process with NCOD_SIMD set (the
// level is fixed when the addon loads). Prints one JSON object on stdout.
import { detectors, simdInfo } from '../lib/index.js';
import { gaussianClusters, normalArray } from './data.js';
import { timeIt } from './harness.js';

const quick = process.argv.includes('--quick');
const n = quick ? 50_000 : 200_000;
const C = 1000;
const block = normalArray(10_000 * C, 31, 2); // tiled: the kernel's speed does not depend on the values
const logits = new Float32Array(n * C);
for (let start = 0; start < logits.length; start += block.length) logits.set(block.subarray(0, Math.min(block.length, logits.length - start)), start);
const energy = detectors.energy();
const energySeconds = await timeIt(() => energy.score({ logits, numClasses: C }), 3);
const energyScores = await energy.score({ logits: logits.subarray(0, 1000 * C), numClasses: C });

const nFit = quick ? 6_000 : 60_000;
const nQuery = quick ? 1_000 : 10_000;
const dim = 512;
const { features } = gaussianClusters(nFit + nQuery, dim, 10, 41);
const knn = await detectors.knn({ k: 50 }).fit({ features: features.subarray(0, nFit * dim), dim });
const queries = features.subarray(nFit * dim);
const knnSeconds = await timeIt(() => knn.score(queries), 3);
const knnScores = await knn.score(queries);

console.log(
  JSON.stringify({
    simd: simdInfo(),
    energy: { rows: n, classes: C, seconds: energySeconds, gbPerSecond: logits.byteLength / energySeconds / 1e9, scores: Array.from(energyScores) },
    knn: { fit: nFit, queries: nQuery, dim, k: 50, seconds: knnSeconds, scores: Array.from(knnScores) },
  }),
);
