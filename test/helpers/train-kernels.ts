// Inputs for single training kernels (native().trainKernel) on awkward sizes, shared by the CPU reference tests
// (test/train/train-kernels.test.ts) and the CUDA parity tests (test/gpu/train.test.ts).
import type { RawTrainKernelName } from '../../binding.js';
import type { Backend } from '../../lib/backend.js';
import { native } from '../../lib/native.js';
import { gaussian, rng } from './random.js';

export interface KernelCase {
  label: string;
  kernel: RawTrainKernelName;
  arrays: Record<string, Float32Array | Int32Array>;
  numbers: Record<string, number>;
}

export type KernelOutputs = Record<string, Float32Array | Int32Array | number>;

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => scale * normal());
}

export function labels(n: number, classes: number, seed: number): Int32Array {
  const random = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(random() * classes));
}

export function runKernel(backend: Backend, c: KernelCase): Promise<KernelOutputs> {
  return native().trainKernel({ backend, kernel: c.kernel, arrays: c.arrays, numbers: c.numbers });
}

export const BATCHES = [1, 2, 7, 257];
export const DIMS = [1, 3, 129];
export const CLASSES = [2, 10, 101];

export function sgemmCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const [M, N, K] of [[1, 1, 1], [7, 3, 129], [257, 10, 3], [2, 101, 7]]) {
    for (const transA of [0, 1]) {
      for (const transB of [0, 1]) {
        for (const beta of [0, 0.5]) {
          const seed = M * 1000 + N * 10 + K + transA * 2 + transB;
          cases.push({
            label: `sgemm M=${M} N=${N} K=${K} transA=${transA} transB=${transB} beta=${beta}`,
            kernel: 'sgemm',
            arrays: { a: randn(M * K, seed), b: randn(K * N, seed + 1), c: randn(M * N, seed + 2) },
            numbers: { M, N, K, transA, transB, beta },
          });
        }
      }
    }
  }
  return cases;
}

/** Bias + activation, their backward, add, AdamW and the batch gather. */
export function elementwiseCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const rows of BATCHES) {
    for (const cols of [...DIMS, 101]) {
      const n = rows * cols;
      for (const relu of [0, 1]) {
        cases.push({
          label: `biasActivation ${rows}×${cols} relu=${relu}`,
          kernel: 'biasActivation',
          arrays: { y: randn(n, n + 1), bias: randn(cols, cols) },
          numbers: { rows, cols, relu },
        });
        const y = randn(n, n + 2);
        for (let q = 0; q < n; q += 5) y[q] = 0; // exact zeros: the ReLU mask is [y > 0]
        cases.push({
          label: `activationBackward ${rows}×${cols} relu=${relu}`,
          kernel: 'activationBackward',
          arrays: { dy: randn(n, n + 3), y },
          numbers: { rows, cols, relu },
        });
      }
      cases.push({ label: `add ${n}`, kernel: 'add', arrays: { y: randn(n, n + 4), x: randn(n, n + 5) }, numbers: { n } });
      cases.push({
        label: `adamw ${n}`,
        kernel: 'adamw',
        arrays: { p: randn(n, n + 6), g: randn(n, n + 7, 0.1), m: randn(n, n + 8, 0.01), v: randn(n, n + 9, 0.01).map(Math.abs) },
        numbers: { n, lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, step: 1 + (n % 17) },
      });
      // A batch of `rows` indices from a dataset of 2·rows + 1 rows; two of them out of range when there is room.
      const dataRows = 2 * rows + 1;
      const order = labels(rows, dataRows, n + 10);
      if (rows >= 7) [order[1], order[4]] = [-1, dataRows];
      cases.push({
        label: `gatherRows ${rows} of ${dataRows}×${cols}`,
        kernel: 'gatherRows',
        arrays: { x: randn(dataRows * cols, n + 11), y: labels(dataRows, 1000, n + 12), order },
        numbers: { rows: dataRows, dim: cols, n: rows },
      });
    }
  }
  return cases;
}

export function crossEntropyCases(): KernelCase[] {
  return BATCHES.flatMap((rows) =>
    CLASSES.map((classes) => {
      const logits = randn(rows * classes, rows * classes, 3);
      if (rows >= 7) logits.fill(1.5, 0, classes); // a row of ties: the first maximum counts
      return {
        label: `crossEntropyLs B=${rows} C=${classes}`,
        kernel: 'crossEntropyLs' as const,
        arrays: { logits, labels: labels(rows, classes, rows + classes) },
        numbers: { rows, classes, smoothing: 0.1 },
      };
    }),
  );
}

export function nnEntropyCases(): KernelCase[] {
  return BATCHES.filter((B) => B >= 2).flatMap((rows) =>
    DIMS.map((dim) => ({
      label: `nnEntropy B=${rows} d=${dim}`,
      kernel: 'nnEntropy' as const,
      arrays: { e: randn(rows * dim, rows * dim + 1) },
      numbers: { rows, dim, scale: 0.05 },
    })),
  );
}

/** The projector needs d ≥ 2: d = 2, 3, 129 with widths d and 2d + 1. */
export function etfCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const rows of BATCHES) {
    for (const dim of [2, 3, 129]) {
      for (const width of [dim, 2 * dim + 1]) {
        const seed = rows * 7 + dim * 3 + width;
        const e = randn(rows * dim, seed);
        cases.push({ label: `etfForward B=${rows} d=${dim} h=${width}`, kernel: 'etfForward', arrays: { e }, numbers: { rows, dim, width } });
        const hidden = randn(rows * width, seed + 1).map((v) => Math.max(0, v)); // post-ReLU, some exact zeros
        const z = randn(rows * dim, seed + 2);
        cases.push({
          label: `etfBackward B=${rows} d=${dim} h=${width}`,
          kernel: 'etfBackward',
          arrays: { hidden, z, dz: randn(rows * dim, seed + 3) },
          numbers: { rows, dim, width },
        });
      }
    }
  }
  return cases;
}

/** LayerNorm forward and backward (backward inputs from a float64 forward, so both backends see the same ones). */
export function layerNormCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const rows of BATCHES) {
    for (const cols of [1, 3, 129, 300]) {
      for (const relu of [0, 1]) {
        const seed = rows * 31 + cols * 7 + relu;
        const x = randn(rows * cols, seed, 2);
        for (let c = 0; c < cols; c++) x[c] += 5; // a row far from zero mean
        const gamma = randn(cols, seed + 1);
        const beta = randn(cols, seed + 2);
        cases.push({ label: `layerNormForward ${rows}×${cols} relu=${relu}`, kernel: 'layerNormForward', arrays: { x, gamma, beta }, numbers: { rows, cols, relu } });
        const { y, mean, rstd } = layerNormF32(x, rows, cols, gamma, beta, relu === 1);
        cases.push({
          label: `layerNormBackward ${rows}×${cols} relu=${relu}`,
          kernel: 'layerNormBackward',
          arrays: { x, mean, rstd, gamma, y, dy: randn(rows * cols, seed + 3) },
          numbers: { rows, cols, relu },
        });
      }
    }
  }
  return cases;
}

/** The forward's saved values as the kernels store them (float32 mean and rstd). */
function layerNormF32(x: Float32Array, rows: number, cols: number, gamma: Float32Array, beta: Float32Array, relu: boolean) {
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const mu = row.reduce((s, v) => s + v, 0) / cols;
    mean[r] = mu;
    rstd[r] = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / cols + 1e-5);
    row.forEach((v, c) => {
      const o = gamma[c] * (v - mean[r]) * rstd[r] + beta[c];
      y[r * cols + c] = relu ? Math.max(0, o) : o;
    });
  }
  return { y, mean, rstd };
}
