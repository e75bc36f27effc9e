// CUDA vs CPU parity for the trainer: every training kernel on awkward sizes, batch gradients, whole epochs, layer
// features and abort. The CPU kernels are checked against float64 references in test/train/.
import { describe, expect, it } from 'vitest';

import { Trainer, type TrainerOptions } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { clusters } from '../helpers/random.js';
import {
  crossEntropyCases,
  elementwiseCases,
  etfCases,
  layerNormCases,
  nnEntropyCases,
  randn,
  runKernel,
  sgemmCases,
  type KernelCase,
} from '../helpers/train-kernels.js';
import { cudaAvailable, cudaSkipReason } from './cuda-status.js';

/** max |a − b| ≤ tol · max(max |b|, floor): one scale per array, a floor for arrays that are (nearly) all zero. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = 1e-6) {
  expect(actual.length, what).toBe(expected.length);
  let scale = floor;
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    scale = Math.max(scale, Math.abs(expected[k]));
    const diff = Math.abs(actual[k] - expected[k]);
    worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff);
  }
  expect(worst / scale, what).toBeLessThanOrEqual(tol);
}

/** Runs a kernel on both backends: Int32Array outputs and `exact` numbers equal, the rest within tol. */
async function expectKernelParity(c: KernelCase, tol: number, exact: string[] = []) {
  const cpu = await runKernel('cpu', c);
  const gpu = await runKernel('cuda', c);
  expect(Object.keys(gpu).sort(), c.label).toEqual(Object.keys(cpu).sort());
  for (const [key, want] of Object.entries(cpu)) {
    const got = gpu[key];
    const what = `${c.label}: ${key}`;
    if (typeof want === 'number') {
      if (exact.includes(key)) expect(got, what).toBe(want);
      else expect(Math.abs((got as number) - want), what).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
    } else if (want instanceof Int32Array || exact.includes(key)) {
      expect(Array.from(got as ArrayLike<number>), what).toEqual(Array.from(want));
    } else {
      expectClose(got as Float32Array, want, tol, what);
    }
  }
}

describe.skipIf(!cudaAvailable)(`training kernels: cuda equals cpu${cudaSkipReason}`, () => {
  it('sgemm, every transpose and beta (float32, no TF32)', async () => {
    for (const c of sgemmCases()) await expectKernelParity(c, 1e-5);
  });

  it('bias + activation, add and the batch gather are exact; the bias gradient within one rounding', async () => {
    for (const c of elementwiseCases()) {
      if (c.kernel === 'activationBackward') await expectKernelParity(c, 1e-6, ['dy']);
      else if (c.kernel === 'adamw') await expectKernelParity(c, 1e-5); // the GPU may fuse multiply-adds
      else await expectKernelParity(c, 0, ['y', 'xb']);
    }
  });

  it('label-smoothed cross-entropy: loss, gradient and first-maximum hits', async () => {
    for (const c of crossEntropyCases()) await expectKernelParity(c, 1e-6, ['correct']);
  });

  it('nearest-neighbour entropy: the same neighbours (float64 Gram), loss and gradient', async () => {
    for (const c of nnEntropyCases()) await expectKernelParity(c, 1e-6);
    // Ties: duplicated rows and, in d = 1, every row is ±1 after normalisation; the first maximum wins on both.
    const dup = randn(7 * 3, 1);
    dup.copyWithin(9, 0, 6);
    await expectKernelParity({ label: 'nnEntropy with duplicated rows', kernel: 'nnEntropy', arrays: { e: dup }, numbers: { rows: 7, dim: 3, scale: 1 } }, 1e-6);
  });

  it('ETF projector forward and backward', async () => {
    for (const c of etfCases()) await expectKernelParity(c, 1e-5);
  });

  it('LayerNorm forward (y, saved mean and rstd) and backward (dx, dγ, dβ)', async () => {
    for (const c of layerNormCases()) await expectKernelParity(c, 1e-5);
  });
});

describe.skipIf(!cudaAvailable)(`training: cuda equals cpu${cudaSkipReason}`, () => {
  const C = 7;
  const data = clusters(1031, 13, C, 3, { separation: 1.5 });
  const shapes: Array<Pick<TrainerOptions, 'layers' | 'projector' | 'projectorHidden' | 'alpha' | 'layerNorm'>> = [
    { layers: [13, 33, 17], projector: 'etf', projectorHidden: 37 },
    { layers: [13, 33, 17], projector: 'etf', projectorHidden: 37, layerNorm: true },
    { layers: [13, 129], projector: 'none', alpha: 0.05 },
    { layers: [13], projector: 'none', alpha: 0 }, // a linear probe
  ];
  const optionsOf = (shape: (typeof shapes)[number]): TrainerOptions => ({ ...shape, classes: C, epochs: 3, warmupEpochs: 0, batch: 256, lr: 3e-3, seed: 5 });
  /** A CUDA trainer starting from exactly the CPU trainer's state. */
  const onCuda = (t: Trainer) => new Trainer(t.options, { ...t.state(), options: { ...t.options, backend: 'cuda' } });

  for (const shape of shapes) {
    const name = `${shape.layers.join('→')}, projector ${shape.projector}${shape.layerNorm ? ', LayerNorm' : ''}`;

    it(`batch gradients: ${name}`, async () => {
      const t = new Trainer(optionsOf(shape));
      for (const rows of [1, 2, 7, 257]) {
        const x = data.features.subarray(0, rows * 13);
        const y = data.labels.subarray(0, rows);
        const args = { config: t.config, params: t.state().params, x, y, rows, alpha: 0.05, labelSmoothing: 0.1 };
        const cpu = await native().mlpGradients({ ...args, backend: 'cpu' });
        const gpu = await native().mlpGradients({ ...args, backend: 'cuda' });
        expect(Math.abs(gpu.ce - cpu.ce), `rows ${rows}: ce`).toBeLessThan(1e-5 * Math.max(1, cpu.ce));
        expect(Math.abs(gpu.entropy - cpu.entropy), `rows ${rows}: entropy`).toBeLessThan(1e-5 * Math.max(1, Math.abs(cpu.entropy)));
        cpu.grads.forEach((g, i) => expectClose(gpu.grads[i], g, 1e-4, `rows ${rows}: grads[${i}]`));
      }
    });

    it(`epochs, features and determinism: ${name}`, async () => {
      const cpu = new Trainer(optionsOf(shape));
      const gpu = onCuda(cpu);
      const twin = onCuda(cpu);
      for (let epoch = 0; epoch < 2; epoch++) {
        const a = await cpu.trainEpoch(data.features, data.labels);
        const b = await gpu.trainEpoch(data.features, data.labels);
        await twin.trainEpoch(data.features, data.labels);
        expect(Math.abs(b.loss - a.loss), `epoch ${epoch}: loss`).toBeLessThan(1e-3 * Math.max(1, a.loss));
        expect(Math.abs(b.ce - a.ce)).toBeLessThan(1e-3 * Math.max(1, a.ce));
        expect(Math.abs(b.entropy - a.entropy)).toBeLessThan(1e-3 * Math.max(1, Math.abs(a.entropy)));
        expect(Math.abs(b.accuracy - a.accuracy)).toBeLessThanOrEqual(3 / 1031);
      }
      const [pc, pg, pt] = [cpu.state(), gpu.state(), twin.state()];
      expect(pg.step).toBe(pc.step);
      for (const key of ['params', 'm', 'v'] as const) {
        // The GPU is deterministic: two runs from one state agree bit for bit.
        pg[key].forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(pt[key][i].buffer)), `${key}[${i}]`).toBe(true));
      }
      // Adam moves each weight by about ±lr per step whatever the gradient's size, so a weight whose gradient is
      // at rounding level may move the other way: bound those, and require almost all weights to agree closely.
      const diffs = pc.params.flatMap((p, i) => Array.from(p, (v, k) => Math.abs(v - pg.params[i][k]))).sort((x, y) => x - y);
      expect(diffs[diffs.length - 1]).toBeLessThanOrEqual(2 * 3e-3 * pc.step + 1e-4);
      expect(diffs[Math.floor(0.99 * (diffs.length - 1))]).toBeLessThan(1e-4);

      for (const layer of [...cpu.layerNames(), 'logits' as const]) {
        const [fc, fg] = [await cpu.features(data.features, layer), await onCuda(cpu).features(data.features, layer)];
        expectClose(fg, fc, 1e-4, `features ${layer}`);
      }
    });
  }

  it('aborts between batches with ERR_ABORTED and leaves the trainer untouched', async () => {
    const big = clusters(200_000, 13, C, 6);
    const t = new Trainer({ ...optionsOf(shapes[0]), batch: 4, backend: 'cuda' });
    const before = t.state();
    const controller = new AbortController();
    const run = t.trainEpoch(big.features, big.labels, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const after = t.state();
    expect(after.step).toBe(before.step);
    for (const key of ['params', 'm', 'v'] as const) {
      before[key].forEach((p, i) => expect(Buffer.from(after[key][i].buffer).equals(Buffer.from(p.buffer)), `${key}[${i}]`).toBe(true));
    }
    // The trainer still works after an abort.
    expect((await t.trainEpoch(data.features, data.labels)).epoch).toBe(1);
  });
});
