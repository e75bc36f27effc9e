// The CPU training kernels as the trainer calls them (TrainKernels through native().trainKernel), against float64
// references on awkward sizes; the CUDA kernels are compared with these in test/gpu/train.test.ts.
import { describe, expect, it } from 'vitest';

import type { Backend } from '../../lib/backend.js';
import { etfProjector } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { relativeError } from '../helpers/reference.js';
import { ceLsReference, finiteDifferences, layerNormReference, nnEntropyReference, projectorReference } from '../helpers/training-reference.js';
import {
  crossEntropyCases,
  elementwiseCases,
  etfCases,
  layerNormCases,
  nnEntropyCases,
  runKernel,
  sgemmCases,
  type KernelCase,
} from '../helpers/train-kernels.js';

const f32 = (o: Record<string, unknown>, key: string) => o[key] as Float32Array;
const i32 = (o: Record<string, unknown>, key: string) => o[key] as Int32Array;

function sgemmReference({ arrays, numbers }: KernelCase): Float64Array {
  const { M, N, K, transA, transB, beta } = numbers;
  const [a, b, c] = [f32(arrays, 'a'), f32(arrays, 'b'), f32(arrays, 'c')];
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = beta * c[i * N + j];
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
      out[i * N + j] = s;
    }
  }
  return out;
}

/** Exact float32 results of the elementwise kernels (their CPU bodies round once per float32 operation). */
function elementwiseReference({ kernel, arrays, numbers }: KernelCase): Record<string, ArrayLike<number>> {
  switch (kernel) {
    case 'biasActivation': {
      const [y, bias] = [f32(arrays, 'y'), f32(arrays, 'bias')];
      return { y: y.map((v, q) => Math.fround(v + bias[q % numbers.cols])).map((v) => (numbers.relu && v < 0 ? 0 : v)) };
    }
    case 'activationBackward': {
      const [dy0, y] = [f32(arrays, 'dy'), f32(arrays, 'y')];
      const dy = dy0.map((g, q) => (numbers.relu && !(y[q] > 0) ? 0 : g));
      const db = Float32Array.from({ length: numbers.cols }, (_, c) => {
        let s = 0; // float64, rows in order, rounded once
        for (let r = 0; r < numbers.rows; r++) s += dy[r * numbers.cols + c];
        return s;
      });
      return { dy, db };
    }
    case 'add':
      return { y: f32(arrays, 'y').map((v, q) => Math.fround(v + f32(arrays, 'x')[q])) };
    case 'gatherRows': {
      const { rows, dim, n } = numbers;
      const [x, y, order] = [f32(arrays, 'x'), i32(arrays, 'y'), i32(arrays, 'order')];
      const ok = (i: number) => order[i] >= 0 && order[i] < rows;
      return {
        xb: Float32Array.from({ length: n * dim }, (_, q) => (ok(Math.floor(q / dim)) ? x[order[Math.floor(q / dim)] * dim + (q % dim)] : 0)),
        yb: Int32Array.from({ length: n }, (_, i) => (ok(i) ? y[order[i]] : 0)),
      };
    }
    default:
      throw new Error(`no exact reference for ${kernel}`);
  }
}

/** torch.optim.AdamW in float64. */
function adamwReference({ arrays, numbers }: KernelCase) {
  const { lr, beta1, beta2, eps, weightDecay, step } = numbers;
  const [p, g, m0, v0] = ['p', 'g', 'm', 'v'].map((k) => f32(arrays, k));
  const m = m0.map((x, q) => beta1 * x + (1 - beta1) * g[q]);
  const v = Float64Array.from(v0, (x, q) => beta2 * x + (1 - beta2) * g[q] * g[q]);
  const [c1, c2] = [1 - beta1 ** step, 1 - beta2 ** step];
  const pNew = Float64Array.from(p, (x, q) => x * (1 - lr * weightDecay) - (lr / c1) * (m[q] / (Math.sqrt(v[q]) / Math.sqrt(c2) + eps)));
  return { p: pNew, m: Float64Array.from(m), v };
}

describe('CPU training kernels against float64 references', () => {
  for (const c of sgemmCases()) {
    it(c.label, async () => {
      const got = await runKernel('cpu', c);
      expect(relativeError(f32(got, 'c'), sgemmReference(c))).toBeLessThan(1e-5);
    });
  }

  it('bias + activation, its backward, add and the batch gather: exact on every size', async () => {
    let checked = 0;
    for (const c of elementwiseCases().filter((k) => k.kernel !== 'adamw')) {
      const got = await runKernel('cpu', c);
      for (const [key, expected] of Object.entries(elementwiseReference(c))) {
        expect(Array.from(got[key] as ArrayLike<number>), `${c.label}: ${key}`).toEqual(Array.from(expected));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('AdamW is PyTorch’s formula', async () => {
    for (const c of elementwiseCases().filter((k) => k.kernel === 'adamw')) {
      const got = await runKernel('cpu', c);
      const ref = adamwReference(c);
      // float32 arithmetic: a few roundings, relative to the array's scale (m may cancel to near zero).
      for (const key of ['p', 'm', 'v'] as const) expect(relativeError(f32(got, key), ref[key]), `${c.label}: ${key}`).toBeLessThan(1e-5);
    }
  });

  it('cross-entropy: loss, gradient and the count of first-maximum hits', async () => {
    for (const c of crossEntropyCases()) {
      const got = await runKernel('cpu', c);
      const { rows, classes } = c.numbers;
      const [logits, y] = [f32(c.arrays, 'logits'), i32(c.arrays, 'labels')];
      const ref = ceLsReference(logits, y, classes, 0.1);
      expect(Math.abs((got.loss as number) - ref.loss), c.label).toBeLessThan(1e-12 * Math.max(1, ref.loss));
      expect(relativeError(f32(got, 'dlogits'), ref.grad), c.label).toBeLessThan(1e-6);
      let hits = 0;
      for (let r = 0; r < rows; r++) {
        const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
        hits += Number(row.indexOf(Math.max(...row)) === y[r]);
      }
      expect(got.correct, c.label).toBe(hits);
    }
  });

  it('nearest-neighbour entropy', async () => {
    for (const c of nnEntropyCases().filter((k) => k.numbers.rows <= 7 || k.numbers.dim <= 3)) {
      const got = await runKernel('cpu', c);
      const ref = nnEntropyReference(f32(c.arrays, 'e'), c.numbers.rows, c.numbers.dim);
      expect(Math.abs((got.loss as number) - ref.loss), c.label).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.loss)));
      expect(relativeError(f32(got, 'de'), ref.grad.map((g) => 0.05 * g)), c.label).toBeLessThan(1e-6);
    }
  });

  it('ETF projector: forward against dense matrices, backward equal to etfProjector()', async () => {
    for (const c of etfCases().filter((k) => k.kernel === 'etfForward' && k.numbers.dim <= 3)) {
      const { rows, dim, width } = c.numbers;
      const e = f32(c.arrays, 'e');
      const got = await runKernel('cpu', c);
      expect(relativeError(f32(got, 'z'), projectorReference(e, rows, dim, width)), c.label).toBeLessThan(1e-6);
      // etfProjector() (checked against finite differences in kernels.test.ts) runs the same CPU bodies.
      const dz = e.map((v, k) => Math.sin(k) * v);
      const standalone = await etfProjector(e, { dim, hiddenWidth: width, dz });
      expect(Array.from(f32(got, 'hidden')), c.label).toEqual(Array.from(standalone.hidden));
      const back = await runKernel('cpu', { ...c, kernel: 'etfBackward', arrays: { hidden: standalone.hidden, z: standalone.z, dz } });
      expect(Array.from(f32(back, 'de')), c.label).toEqual(Array.from(standalone.de!));
    }
  });

  it('LayerNorm forward: torch.nn.LayerNorm (eps 1e-5, biased variance) then γ, β and the ReLU', async () => {
    for (const c of layerNormCases().filter((k) => k.kernel === 'layerNormForward')) {
      const { rows, cols, relu } = c.numbers;
      const ref = layerNormReference(f32(c.arrays, 'x'), rows, cols, f32(c.arrays, 'gamma'), f32(c.arrays, 'beta'), relu === 1);
      const got = await runKernel('cpu', c);
      expect(relativeError(f32(got, 'y'), ref.y), c.label).toBeLessThan(1e-6);
      expect(relativeError(f32(got, 'mean'), ref.mean), c.label).toBeLessThan(1e-7);
      expect(relativeError(f32(got, 'rstd'), ref.rstd), c.label).toBeLessThan(1e-6);
    }
  });

  it('LayerNorm backward: dx, dγ, dβ equal finite differences of the float64 forward', async () => {
    for (const c of layerNormCases().filter((k) => k.kernel === 'layerNormForward' && k.numbers.rows <= 7 && k.numbers.cols <= 129)) {
      const { rows, cols, relu } = c.numbers;
      const [x, gamma, beta] = ['x', 'gamma', 'beta'].map((k) => f32(c.arrays, k));
      const forward = await runKernel('cpu', c);
      const dy = x.map((_, k) => Math.cos(3 * k)); // L = Σ dy ⊙ y
      const back = await runKernel('cpu', {
        ...c,
        kernel: 'layerNormBackward',
        arrays: { x, gamma, dy, y: f32(forward, 'y'), mean: f32(forward, 'mean'), rstd: f32(forward, 'rstd') },
      });
      const loss = (xs: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        layerNormReference(xs, rows, cols, g, b, relu === 1).y.reduce((s, v, k) => s + v * dy[k], 0);
      const fdX = finiteDifferences((v) => loss(v, gamma, beta), Float64Array.from(x));
      const fdGamma = finiteDifferences((v) => loss(x, v, beta), Float64Array.from(gamma));
      const fdBeta = finiteDifferences((v) => loss(x, gamma, v), Float64Array.from(beta));
      // A ReLU kink within the finite-difference step would spoil the comparison; the inputs keep clear of them.
      expect(relativeError(f32(back, 'dx'), fdX), `${c.label}: dx`).toBeLessThan(1e-4);
      expect(relativeError(f32(back, 'dgamma'), fdGamma), `${c.label}: dgamma`).toBeLessThan(1e-4);
      expect(relativeError(f32(back, 'dbeta'), fdBeta), `${c.label}: dbeta`).toBeLessThan(1e-4);
    }
  });

  it('rejects unknown kernels, wrong types and lengths, missing sizes and an unavailable backend', async () => {
    // Some are thrown at the call, some by the worker: either way the caller sees a rejection with the code.
    const attempt = (c: KernelCase, backend: Backend = 'cpu') => Promise.resolve().then(() => runKernel(backend, c));
    const c = sgemmCases()[2];
    await expect(attempt({ ...c, kernel: 'nope' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^options\.kernel: expected one of 'activationBackward', .*, got 'nope'$/) });
    await expect(attempt({ ...c, arrays: { ...c.arrays, a: [1] as never } })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
    await expect(attempt({ ...c, arrays: { ...c.arrays, a: new Float32Array(3) } })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(attempt({ ...c, numbers: { ...c.numbers, M: undefined as never } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(attempt({ ...c, numbers: { ...c.numbers, K: 0 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(attempt({ ...c, numbers: { ...c.numbers, N: 2.5 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const nn = nnEntropyCases()[0];
    await expect(attempt({ ...nn, numbers: { ...nn.numbers, rows: 1 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const cuda = native().backends().find((b) => b.name === 'cuda')!;
    if (!cuda.available) await expect(attempt(c, 'cuda')).rejects.toMatchObject({ code: 'ERR_BACKEND_UNAVAILABLE' });
  });
});
