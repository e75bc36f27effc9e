// CUDA vs CPU parity for the OOD detectors.
import { describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cudaAvailable, cudaSkipReason } from './cuda-status.js';

function randn(n: number, seed: number, scale = 1): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => scale * normal());
}

function expectClose(gpu: Float64Array, cpu: Float64Array, rel: number, abs: number) {
  expect(gpu.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(Math.abs(gpu[i] - cpu[i]), `row ${i}: ${gpu[i]} vs ${cpu[i]}`).toBeLessThanOrEqual(rel * Math.abs(cpu[i]) + abs);
  }
}

const logitKinds = ['msp', 'maxLogit', 'energy', 'gen', 'entropy'] as const;

describe.skipIf(!cudaAvailable)(`detectors: cuda equals cpu${cudaSkipReason}`, () => {
  for (const { n, C } of [{ n: 1, C: 2 }, { n: 1031, C: 10 }, { n: 20_011, C: 1000 }]) {
    for (const kind of logitKinds) {
      it(`${kind} from logits N=${n} C=${C}`, async () => {
        const logits = randn(n * C, n + C, 4);
        const make = (backend: 'cpu' | 'cuda') => detectors[kind]({ backend });
        const cpu = await make('cpu').score({ logits, numClasses: C });
        const gpu = await make('cuda').score({ logits, numClasses: C });
        expectClose(gpu, cpu, 1e-9, 1e-12); // both float64 from the same float32 logits
      });
    }
  }

  for (const { n, d, C } of [{ n: 1, d: 1, C: 2 }, { n: 5003, d: 257, C: 100 }]) {
    for (const kind of logitKinds) {
      it(`${kind} through a linear head N=${n} d=${d} C=${C}`, async () => {
        const features = randn(n * d, n + d);
        const weights = randn(C * d, C, 1 / Math.sqrt(d));
        const bias = randn(C, 3);
        const input = { features, weights, bias, numClasses: C };
        const cpu = await detectors[kind]({ backend: 'cpu' }).score(input);
        const gpu = await detectors[kind]({ backend: 'cuda' }).score(input);
        expectClose(gpu, cpu, 1e-5, 1e-5); // different float32 GEMMs
      });
    }
    it(`react N=${n} d=${d} C=${C}`, async () => {
      const features = randn(n * d, n + d);
      const weights = randn(C * d, C, 1 / Math.sqrt(d));
      const cpu = await (await detectors.react({ backend: 'cpu' }).fit({ features })).score({ features, weights, numClasses: C });
      const gpu = await (await detectors.react({ backend: 'cuda' }).fit({ features })).score({ features, weights, numClasses: C });
      expectClose(gpu, cpu, 1e-5, 1e-5);
    });
  }

  for (const { n, d, C } of [{ n: 5, d: 1, C: 2 }, { n: 20_011, d: 512, C: 10 }]) {
    for (const relative of [false, true]) {
      it(`${relative ? 'relative ' : ''}mahalanobis N=${n} d=${d} C=${C}`, async () => {
        const { features, labels } = clusters(n, d, C, n, { separation: 2 });
        const x = clusters(3001, d, C, 9).features;
        const make = (backend: 'cpu' | 'cuda') =>
          (relative ? detectors.relativeMahalanobis({ backend }) : detectors.mahalanobis({ backend })).fit({ features, labels, numClasses: C });
        const cpu = await (await make('cpu')).score(x);
        const gpu = await (await make('cuda')).score(x);
        expectClose(gpu, cpu, 1e-7, 1e-9);
      });
    }
  }

  // Entropy where cancellation would show (see test/ood/detectors-entropy.test.ts): a dominant logit (H far below
  // 1e-16), ±1e4, 30·N(0,1), all equal. The CPU's exp is a polynomial within 2e-13 and clamps below e^−708 (the
  // device's exp is libm-accurate and underflows), hence 1e-11 relative plus 1e-290.
  for (const C of [1, 2, 3, 15, 16, 17, 33, 1000]) {
    it(`entropy on hard rows C=${C}`, async () => {
      const normal = gaussian(rng(C));
      const rows = 64;
      const logits = new Float32Array(rows * C);
      for (let i = 0; i < rows; i++) {
        for (let c = 0; c < C; c++) {
          const z = normal();
          const kind = i % 5;
          logits[i * C + c] = kind === 0 ? 30 * z : kind === 1 ? (z < 0 ? -1e4 : 1e4) : kind === 2 ? -3 : c === i % C ? [40, 700][i % 2] + z : z;
        }
      }
      for (const temperature of [1, 0.05]) {
        const cpu = await detectors.entropy({ backend: 'cpu', temperature }).score({ logits, numClasses: C });
        const gpu = await detectors.entropy({ backend: 'cuda', temperature }).score({ logits, numClasses: C });
        expectClose(gpu, cpu, 1e-11, 1e-290);
      }
    });
  }

  // covariance 'pinv' on rank-deficient features (two zero columns, one copied): p < d whitening rows on the device.
  for (const relative of [false, true]) {
    it(`${relative ? 'relative ' : ''}mahalanobis covariance pinv, rank-deficient`, async () => {
      const d = 24, C = 4;
      const { features, labels } = clusters(2000, d, C, 5, { separation: 2 });
      for (let i = 0; i < 2000; i++) {
        features[i * d + 20] = 0;
        features[i * d + 21] = 0;
        features[i * d + 22] = features[i * d];
      }
      const x = randn(1031 * d, 11);
      const make = (backend: 'cpu' | 'cuda') =>
        (relative ? detectors.relativeMahalanobis : detectors.mahalanobis)({ backend, covariance: 'pinv' }).fit({ features, labels, numClasses: C });
      const cpu = await (await make('cpu')).score(x);
      const gpu = await (await make('cuda')).score(x);
      expectClose(gpu, cpu, 1e-7, 1e-9);
    });
  }

  for (const { n, d, k } of [{ n: 1, d: 1, k: 1 }, { n: 50_021, d: 128, k: 50 }, { n: 3001, d: 64, k: 3001 }]) {
    it(`knn N=${n} d=${d} k=${k}`, async () => {
      const features = randn(n * d, n);
      const x = randn(1031 * d, 7);
      const cpu = await (await detectors.knn({ k, backend: 'cpu' }).fit({ features, dim: d })).score(x);
      const gpu = await (await detectors.knn({ k, backend: 'cuda' }).fit({ features, dim: d })).score(x);
      expectClose(gpu, cpu, 0, 1e-5);
    });
  }
});

describe.skipIf(!cudaAvailable)(`head-based detectors: cuda equals cpu${cudaSkipReason}`, () => {
  const n = 4099, d = 256, C = 100, m = 5003;
  const features = randn(n * d, 1, 1);
  const x = randn(m * d, 2, 1.2);
  const weights = randn(C * d, 3, 1 / Math.sqrt(d));
  const bias = randn(C, 4);
  const input = { features, weights, bias, numClasses: C };
  for (const [name, make] of [
    ['vim', (backend: 'cpu' | 'cuda') => detectors.vim({ principalDim: 64, backend })],
    ['residual', (backend: 'cpu' | 'cuda') => detectors.residual({ principalDim: 64, backend })],
    ['neco', (backend: 'cpu' | 'cuda') => detectors.neco({ principalDim: 64, backend })],
    ['fdbd', (backend: 'cpu' | 'cuda') => detectors.fdbd({ backend })],
    ['nci', (backend: 'cpu' | 'cuda') => detectors.nci({ alpha: 0.001, backend })],
  ] as const) {
    it(name, async () => {
      const cpu = await (await make('cpu').fit(input)).score(x);
      const gpu = await (await make('cuda').fit(input)).score(x);
      expectClose(gpu, cpu, 1e-5, 1e-5);
    });
  }
});
