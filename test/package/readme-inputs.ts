// Stand-ins for the arrays a README code block expects the user to have: small, seeded, with the shapes the
// blocks imply (512-d features, 10 classes; the trainer's 784-pixel inputs with 5 classes). The package test
// copies this file into a scratch project (as .ts for the type check, transpiled to .js for the run) and
// prefixes every README block with an import of all of it. No imports here: it must stand alone there.

const dim = 512;
const numClasses = 10;

// mulberry32: a seeded generator, so a failing block fails the same way every run.
let state = 20250101;
function uniform(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function noise(length: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = scale * (uniform() + uniform() + uniform() - 1.5);
  return out;
}
function cyclicLabels(rows: number, classes: number): Int32Array {
  return Int32Array.from({ length: rows }, (_, i) => i % classes);
}
// Rows near one of `numClasses` class means, so the NC metrics and class-conditional detectors see real classes.
const means = noise(numClasses * dim, 3);
function classFeatures(labels: Int32Array): Float32Array {
  const out = noise(labels.length * dim);
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < dim; j++) out[i * dim + j] += means[labels[i] * dim + j];
  }
  return out;
}

const labels = cyclicLabels(600, numClasses);
const features = classFeatures(labels);
const weights = noise(numClasses * dim, 0.1);
const bias = noise(numClasses, 0.1);
const oodFeatures = noise(200 * dim, 3);
const idTrainLabels = cyclicLabels(600, numClasses);
const idTrain = classFeatures(idTrainLabels);
const testFeatures = noise(100 * dim, 3);
const logits = noise(100 * numClasses, 4);
const idScores = Float64Array.from({ length: 300 }, () => 1 + uniform());
const oodScores = Float64Array.from({ length: 200 }, () => uniform() + 0.5);

// A data loader as in a training loop: batches of rows of `features` / `labels`.
async function* batches(): AsyncGenerator<{ features: Float32Array; labels: Int32Array }> {
  for (let row = 0; row < labels.length; row += 256) {
    const end = Math.min(labels.length, row + 256);
    yield { features: features.subarray(row * dim, end * dim), labels: labels.subarray(row, end) };
  }
}
const loader = batches();
// The same as a re-iterable source (a fresh pass per call), for work that takes two passes.
const loadBatches = batches;

// The trainer's inputs: 784 pixels in [0, 1], labels 0..4.
const y = cyclicLabels(64, 5);
const x = Float32Array.from({ length: 64 * 784 }, () => uniform());

export { bias, dim, features, idScores, idTrain, idTrainLabels, labels, loadBatches, loader, logits, numClasses, oodFeatures, oodScores, testFeatures, weights, x, y };
