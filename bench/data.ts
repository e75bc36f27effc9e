// Shared helpers for the suites that compare with Python references: synthetic data, .npy hand-off,
// running a reference script, and the memory bandwidth of this machine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeNpy, type Tensor } from '../lib/data/index.js';
import { findPython } from '../test/helpers/python.js';
import { gaussian, rng } from '../test/helpers/random.js';
import { timeIt } from './harness.js';

/** Standard normal float32 values (Box–Muller, both outputs used). */
export function normalArray(length: number, seed: number, scale = 1, mean = 0): Float32Array {
  const random = rng(seed);
  const out = new Float32Array(length);
  for (let k = 0; k < length; k += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const t = 2 * Math.PI * random();
    out[k] = mean + scale * r * Math.cos(t);
    if (k + 1 < length) out[k + 1] = mean + scale * r * Math.sin(t);
  }
  return out;
}

/** Clusters: class c is μ_c + N(0, I), with μ_c ~ N(0, meanScale²·I); labels uniform, every class present. */
export function gaussianClusters(n: number, dim: number, numClasses: number, seed: number, meanScale = 0.5) {
  const means = normalArray(numClasses * dim, seed + 1, meanScale);
  const features = normalArray(n * dim, seed + 2);
  const random = rng(seed + 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i < numClasses ? i : Math.floor(random() * numClasses);
    labels[i] = c;
    const row = features.subarray(i * dim, (i + 1) * dim);
    for (let j = 0; j < dim; j++) row[j] += means[c * dim + j];
  }
  return { features, labels };
}

/** Standard normal float64 scores shifted by `mean`. */
export function normalScores(n: number, seed: number, mean: number): Float64Array {
  const normal = gaussian(rng(seed));
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = mean + normal();
  return out;
}

/** Writes each tensor as DIR/<name>.npy in a fresh temp dir, runs fn(dir), then removes the dir. */
export async function withNpyDir<T>(tensors: Record<string, Tensor>, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ncod-bench-'));
  try {
    for (const [name, t] of Object.entries(tensors)) await writeNpy(path.join(dir, `${name}.npy`), t);
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pythonDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python');

/**
 * Runs bench/python/<script> with a Python that imports `modules` (throws when there is none: a bench
 * without its reference is broken) and returns the JSON object it prints last on stdout.
 * Its stderr (progress notes) goes to ours.
 */
export function runPython(script: string, args: string[], modules: string[]): Record<string, any> {
  const python = findPython(modules);
  const stdout = execFileSync(python, [path.join(pythonDir, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${script} printed no JSON result; stdout was:\n${stdout}`);
  }
}

/** A large typed-array copy (as in class-stats.ts): reads and writes `bytes` each, so 2·bytes of traffic per run; GB/s. */
export async function copyBandwidth(source: Float32Array): Promise<number> {
  const target = new Float32Array(source.length);
  const seconds = await timeIt(() => target.set(source), 5);
  return (2 * source.byteLength) / seconds / 1e9;
}

/**
 * Prints the 1-minute load average (which includes this benchmark's own work): on a small machine, other
 * people's work skews every timing. Above the core count, something else surely competes.
 */
export function logLoad(where: string): void {
  const load = loadavg()[0];
  const cores = cpus().length;
  const busy = load > cores ? ' (BUSY: other processes compete for the cores; timings are skewed)' : '';
  console.error(`${where}: load average ${load.toFixed(2)} on ${cores} cores${busy}`);
}
