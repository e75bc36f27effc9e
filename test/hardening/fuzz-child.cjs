// The fuzz loop (test/hardening/fuzz.test.ts runs it in a child process): random raw-binding calls built from a valid
// call with 0–3 arguments replaced by wrong types, shapes, lengths, NaNs, detached or shared buffers. Every call must
// return or throw synchronously, and every promise must settle; every error must carry a documented code. Prints one
// JSON line of counts. Arguments: addon path, iterations, seed, the documented codes (JSON).
'use strict';
const [addonPath, iterationsArg, seedArg, codesArg] = process.argv.slice(2);
const b = require(addonPath);
const codes = new Set(JSON.parse(codesArg));
const iterations = Number(iterationsArg);
let seed = Number(seedArg) >>> 0;

function random() {
  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const f32 = (n) => Float32Array.from({ length: n }, () => random() * 2 - 1);
const f64 = (n) => Float64Array.from({ length: n }, () => random() * 0.2 - 0.1);
const identity = (d, scale) => Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? scale : 0));
const labels = (n, C) => Int32Array.from({ length: n }, (_, i) => i % C);

function detached(a) {
  const copy = a.slice();
  structuredClone(copy.buffer, { transfer: [copy.buffer] });
  return copy;
}
function shared(a) {
  const s = new a.constructor(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}
function resizable(a) {
  const buf = new ArrayBuffer(a.byteLength, { maxByteLength: a.byteLength + 64 });
  const r = new a.constructor(buf);
  r.set(a);
  return r;
}
const sparseHuge = () => {
  const s = [];
  s.length = 2 ** 32 - 1;
  s[0] = 4;
  return s;
};
const NUMBERS = [0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e300, -0, 3];

function mutateArray(a) {
  const kind = int(0, 11);
  switch (kind) {
    case 0: return a.slice(0, Math.max(0, a.length - 1));
    case 1: { const c = new a.constructor(a.length + 1); c.set(a); return c; }
    case 2: { const c = a.slice(); if (c.length) c[int(0, c.length - 1)] = NaN; return c; }
    case 3: { const c = a.slice(); if (c.length) c[int(0, c.length - 1)] = a instanceof Int32Array ? 2 ** 31 - 1 : Infinity; return c; }
    case 4: return new a.constructor(0);
    case 5: return a instanceof Float32Array ? Float64Array.from(a) : Float32Array.from(a);
    case 6: return detached(a);
    case 7: return shared(a);
    case 8: return resizable(a);
    case 9: { const c = new a.constructor(a.length + 2); c.set(a, 1); return c.subarray(1, 1 + a.length); }
    case 10: { const c = a.slice(); if (c.length) c[int(0, c.length - 1)] = a instanceof Int32Array ? -7 : -0; return c; }
    default: return Array.from(a);
  }
}

function mutateValue(v) {
  if (ArrayBuffer.isView(v)) return mutateArray(v);
  if (Array.isArray(v)) {
    if (v.length > 1000) return null; // the sparse huge array again: copying it would hang the driver, not ncod
    const k = int(0, 4);
    if (k === 0) return v.slice(1);
    if (k === 1) return sparseHuge();
    if (k === 2 && v.length) { const c = v.slice(); c[int(0, c.length - 1)] = mutateValue(c[int(0, c.length - 1)]); return c; }
    if (k === 3) return [...v, v[0]];
    return {};
  }
  if (v && typeof v === 'object') {
    const c = { ...v };
    const keys = Object.keys(c);
    if (keys.length === 0) return null;
    const key = pick(keys);
    if (random() < 0.3) delete c[key];
    else c[key] = mutateValue(c[key]);
    return c;
  }
  return pick([...NUMBERS, ...NUMBERS, null, undefined, 'x', {}, [], () => {}, true, new Float32Array(2), new Int32Array(1)]);
}

// An argument and, for an options object, its fields (the typed arrays a running call could lose).
const withFields = (a) => (a && typeof a === 'object' && !ArrayBuffer.isView(a) && !Array.isArray(a) ? [a, ...Object.values(a)] : [a]);

let model; // a fitted relative Mahalanobis model's handles, for mahalanobisScore
function template() {
  const r = int(1, 24), d = int(1, 9), C = int(2, 5), h = int(1, 8);
  const x = f32(r * d), y = labels(r, C), W = f32(C * d), bias = f32(C);
  const config = { widths: [d, h], classes: C, projectorHidden: 0 };
  const params = () => [f32(h * d), f32(h), f32(C * h), f32(C)];
  const flag = random() < 0.3 ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
  const progress = random() < 0.3 ? () => {} : undefined;
  const epoch = { batch: int(1, 8), alpha: 0.05, labelSmoothing: 0.1, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0 };
  // Valid handles for the calls that take them (the mutations may replace or break them); now and then a disposed one.
  const head = new b.LinearHead({ weights: W, bias: random() < 0.5 ? bias : null, classes: C });
  const projection = new b.WhitenedCentres({ dim: d, dims: 1, count: 1, shift: f64(d), whitening: f64(d), centres: new Float64Array(1) });
  if (random() < 0.05) head.dispose();
  if (random() < 0.05) projection.dispose();
  const calls = [
    ['classStats', [{ features: x, labels: y, rows: r, dim: d, numClasses: C, withScatter: random() < 0.5, allowEmptyClasses: random() < 0.5, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['ncMetrics', [{ features: x, labels: y, rows: r, dim: d, numClasses: C, weights: random() < 0.5 ? W : null, oodFeatures: random() < 0.5 ? f32(r * d) : null, oodRows: r, weightedGlobalMean: false, rankTolerance: -1, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['crossEntropyLs', [{ logits: f32(r * C), labels: y, rows: r, classes: C, smoothing: 0.1, cancelFlag: flag }]],
    ['nnEntropy', [{ features: f32(Math.max(2, r) * d), rows: Math.max(2, r), dim: d, scale: 1, cancelFlag: flag }]],
    ['etfProjector', [{ features: f32(r * Math.max(2, d)), rows: r, dim: Math.max(2, d), hiddenWidth: Math.max(2, d) + h, dz: random() < 0.5 ? f32(r * Math.max(2, d)) : null, cancelFlag: flag }]],
    ['trainEpoch', [{ config, params: params(), m: params().map((p) => p.fill(0)), v: params().map((p) => p.fill(0)), x, y, rows: r, order: Int32Array.from({ length: r }, (_, i) => i), epoch, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['forwardLayer', [{ config, params: params(), x, rows: r, layer: int(0, 2), backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['mlpGradients', [{ config, params: params(), x, y, rows: r, alpha: 0.05, labelSmoothing: 0.1, backend: 'cpu' }]],
    ['scoreLogits', [{ logits: f32(r * C), rows: r, classes: C, kind: pick(['msp', 'maxlogit', 'energy', 'gen', 'entropy']), temperature: 1, gamma: 0.1, topM: random() < 0.5 ? undefined : int(1, C), backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['linearHead', [{ weights: W, bias: random() < 0.5 ? bias : null, classes: C, clip: random() < 0.5 ? undefined : 0.5 }, { features: x, rows: r, kind: pick(['msp', 'maxlogit', 'energy', 'gen', 'entropy']), temperature: 1, gamma: 0.1, topM: random() < 0.5 ? undefined : int(1, C), backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['whitenedCentres', [{ dim: d, dims: 1, count: 1, shift: f64(d), whitening: f64(d), centres: new Float64Array(1) }, { features: x, rows: r, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['mahalanobisFit', [{ features: x, labels: y, rows: r, dim: d, numClasses: C, relative: random() < 0.5, covariance: pick(['ridge', 'pinv']), ridge: 1e-6, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['knnBank', [{ dim: d }, { features: x, rows: r, normalize: random() < 0.8, cancelFlag: flag }, { features: f32(r * d), rows: r, k: int(1, r), backend: 'cpu', cancelFlag: flag, onProgress: progress }, { start: int(0, r), rows: int(0, r) }]],
    ['subspaceScores', [{ features: x, rows: r, projection, head, kind: pick(['vim', 'residual', 'neco']), alpha: 0.5, shift: f64(d), scale: new Float64Array(d).fill(1), multiplyMaxLogit: random() < 0.5, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['subspaceFit', [{ features: x, rows: r, dim: d, weights: random() < 0.5 ? W : null, bias: null, classes: C, standardise: random() < 0.5, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['decisionScores', [{ features: x, rows: r, head, mean: new Float64Array(d), kind: pick(['fdbd', 'nci']), alpha: 1, backend: 'cpu', cancelFlag: flag, onProgress: progress }]],
    ['mahalanobisFitMoments', [{ shift: f64(d), counts: new Float64Array(C).fill(3), sums: f64(C * d), scatter: identity(d, 10 * C), dim: d, numClasses: C, relative: random() < 0.5, covariance: pick(['ridge', 'pinv']), ridge: 1e-6, backend: 'cpu' }]],
    ['subspaceFitMoments', [{ shift: f64(d), count: 3, sums: f64(d), scatter: identity(d, 5), dim: d, weights: random() < 0.5 ? W : null, bias: null, classes: C, standardise: random() < 0.5, backend: 'cpu' }]],
    ['nccAgreementCount', [{ features: x, rows: r, dim: d, means: f64(C * d), weights: W, bias: random() < 0.5 ? bias : null, classes: C, backend: 'cpu', cancelFlag: flag }]],
    ['setThreads', [int(1, 4)]],
    ['trainKernel', [{ backend: 'cpu', kernel: pick(['sgemm', 'biasActivation', 'activationBackward', 'adamw', 'gatherRows', 'add', 'layerNormForward', 'layerNormBackward', 'crossEntropyLs', 'nnEntropy', 'etfForward', 'etfBackward', 'nope']), arrays: { a: x, b: f32(r * d), x, y, labels: y }, numbers: { rows: r, cols: d, m: r, n: d, k: d, classes: C } }]],
    ['accumulator', [d, C, x, y, r]],
  ];
  if (model && model.classes.dim() === d) calls.push(['mahalanobisScore', [{ features: x, rows: r, classes: model.classes, background: random() < 0.5 ? model.background : projection, backend: 'cpu', cancelFlag: flag, onProgress: progress }]]);
  return pick(calls);
}

// A KNN bank through its whole life: append, score, read back, dispose (then one call that must refuse).
async function callKnnBank(args) {
  const [options, append, score, read] = args;
  const bank = new b.KnnBank(options);
  await bank.append(append);
  await bank.score(score);
  bank.read(read);
  bank.dispose();
  return bank.rows();
}

// A linear head through its life: made, scored, disposed (twice), then a score that must refuse.
async function callLinearHead(args) {
  const [options, score] = args;
  const head = new b.LinearHead(options);
  await head.score(score);
  head.dispose();
  head.dispose();
  return head.score(score);
}

// Whitened centres through their life: made, scored (as Mahalanobis classes), disposed, then a score that must refuse.
async function callWhitenedCentres(args) {
  const [model, score] = args;
  const classes = new b.WhitenedCentres(model);
  await b.mahalanobisScore({ ...score, classes });
  classes.dispose();
  return b.mahalanobisScore({ ...score, classes });
}

async function callAccumulator(args) {
  const [d, C, x, y, r] = args;
  const acc = new b.NcAccumulator({ dim: d, numClasses: C, backend: 'cpu' });
  await acc.add({ features: x, labels: y, rows: r });
  const s = acc.state();
  const again = b.NcAccumulator.fromState({ state: random() < 0.5 ? s : mutateValue(s), backend: 'cpu' });
  if (random() < 0.5) acc.merge(again);
  else await acc.mergeAsync(again);
  if (random() < 0.5) await acc.stateAsync();
  return acc.finalize({ weightedGlobalMean: false });
}

const counts = { calls: 0, returned: 0, resolved: 0, syncErrors: 0, rejections: 0, uncoded: 0, hung: 0 };
const samples = [];
function record(error, where, name) {
  const code = error && error.code;
  if (codes.has(code)) {
    counts[where]++;
  } else {
    counts.uncoded++;
    if (samples.length < 10) samples.push(`${name}: ${where}: ${error && error.constructor && error.constructor.name}: ${error && error.message}`);
  }
}

async function settle(promise, name) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), 20_000)));
  const outcome = await Promise.race([promise.then(() => 'resolved', (e) => { record(e, 'rejections', name); return 'rejected'; }), timeout]);
  clearTimeout(timer);
  if (outcome === 'resolved') counts.resolved++;
  if (outcome === 'hung') { counts.hung++; samples.push(`${name}: hung`); }
}

(async () => {
  // One valid fit first, for mahalanobisScore.
  const fitted = await b.mahalanobisFit({ features: f32(40 * 3), labels: labels(40, 2), rows: 40, dim: 3, numClasses: 2, relative: true });
  model = { classes: new b.WhitenedCentres(fitted.classes), background: new b.WhitenedCentres(fitted.background) };
  for (let i = 0; i < iterations; i++) {
    const [name, valid] = template();
    const args = valid.slice();
    const mutations = int(0, 3);
    for (let k = 0; k < mutations; k++) {
      const at = int(0, args.length - 1);
      try {
        args[at] = mutateValue(args[at]);
      } catch {
        args[at] = null; // mutating an already detached array throws in JS: that is the driver, not ncod
      }
    }
    if (random() < 0.05) args.push(undefined); // wrong arity
    counts.calls++;
    if (process.env.NCOD_FUZZ_TRACE) require('node:fs').writeSync(2, `${i} ${name} ${JSON.stringify(args, (k, v) => (ArrayBuffer.isView(v) ? `${v.constructor.name}(${v.length})${v.buffer instanceof SharedArrayBuffer ? "S" : ""}` : Array.isArray(v) && v.length > 100 ? `Array(${v.length})` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)).slice(0, 400)}\n`);
    let result;
    try {
      const drivers = { accumulator: callAccumulator, knnBank: callKnnBank, linearHead: callLinearHead, whitenedCentres: callWhitenedCentres };
      result = name in drivers ? drivers[name](args) : b[name](...args);
    } catch (error) {
      record(error, 'syncErrors', name);
      continue;
    }
    if (result && typeof result.then === 'function') {
      // Sometimes the inputs are transferred away while the call runs.
      if (random() < 0.1) {
        for (const a of args.flatMap(withFields)) if (ArrayBuffer.isView(a) && !(a.buffer instanceof SharedArrayBuffer) && a.buffer.byteLength) structuredClone(a.buffer, { transfer: [a.buffer] });
        if (typeof globalThis.gc === 'function') globalThis.gc(); // the transferred copies are garbage: freed now
      }
      await settle(result, name);
    } else {
      counts.returned++;
    }
  }
  b.setThreads(1);
  console.log(JSON.stringify({ ...counts, samples }));
})().catch((error) => {
  console.error('fuzz driver failed', error);
  process.exit(3);
});
