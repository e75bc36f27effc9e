import { describe, expect, it } from 'vitest';

import { crossEntropyLs, etfProjector, nnEntropy } from '../../lib/index.js';
import { gaussian, rng } from '../helpers/random.js';
import { relativeError } from '../helpers/reference.js';
import {
  ceLsReference,
  finiteDifferences,
  nnEntropyReference,
  nnEntropyValue,
  projectorReference,
} from '../helpers/training-reference.js';

/** max |a − b| ≤ tol · max(max |b|, 1e-2): relative, with a floor for gradients that vanish (d = 2 projector). */
function expectGradientClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  let scale = 1e-2;
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    scale = Math.max(scale, Math.abs(expected[k]));
    worst = Math.max(worst, Math.abs(actual[k] - expected[k]));
  }
  expect(worst / scale).toBeLessThan(tol);
}

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const normal = gaussian(rng(seed));
  return Float32Array.from({ length: n }, () => scale * normal());
}

describe('label-smoothed cross-entropy', () => {
  for (const [B, K] of [[1, 2], [3, 7], [17, 10], [130, 3]]) {
    it(`B=${B} K=${K}: the reference's gradient matches finite differences; native equals the reference`, async () => {
      const logits = randomArray(B * K, B * K, 3);
      const labels = Int32Array.from({ length: B }, (_, i) => (i * 7) % K);
      const ref = ceLsReference(logits, labels, K, 0.1);
      const fd = finiteDifferences((x) => ceLsReference(x, labels, K, 0.1).loss, Float64Array.from(logits));
      expect(relativeError(ref.grad, fd)).toBeLessThan(1e-6);
      const got = await crossEntropyLs(logits, labels, { classes: K, smoothing: 0.1 });
      expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-12);
      expect(relativeError(got.grad, ref.grad)).toBeLessThan(1e-6);
    });
  }
  it('rejects labels out of range and NaN logits', async () => {
    await expect(crossEntropyLs(new Float32Array(4), Int32Array.of(0, 2), { classes: 2 })).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE' });
    await expect(crossEntropyLs(Float32Array.of(0, Number.NaN), Int32Array.of(0), { classes: 2 })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE' });
    await expect(crossEntropyLs(new Float32Array(4), Int32Array.of(0, 1), { classes: 2, smoothing: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('nearest-neighbour entropy regulariser', () => {
  for (const [B, d] of [[2, 1], [3, 5], [17, 13], [64, 64]]) {
    it(`B=${B} d=${d}: gradient through the row and its neighbour`, async () => {
      const e = randomArray(B * d, B + d);
      const ref = nnEntropyReference(e, B, d);
      // Finite differences with the neighbours held fixed, as the method specifies.
      const fd = finiteDifferences((x) => nnEntropyValue(x, B, d, ref.neighbours).loss, Float64Array.from(e));
      expect(relativeError(ref.grad, fd)).toBeLessThan(1e-5);
      const got = await nnEntropy(e, { dim: d, scale: 0.05 });
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.loss)));
      expect(relativeError(got.grad, ref.grad.map((g) => 0.05 * g))).toBeLessThan(1e-6);
    });
  }
  it('is about −0.27 on random Gaussian 512×512 and much larger for tight clusters (METHOD.md)', async () => {
    const { loss } = await nnEntropy(randomArray(512 * 512, 1), { dim: 512 });
    expect(loss).toBeGreaterThan(-0.3);
    expect(loss).toBeLessThan(-0.24);
    const centres = randomArray(10 * 512, 2);
    const noise = randomArray(512 * 512, 3, 0.01);
    const tight = noise.map((v, k) => v + centres[(Math.floor(k / 512) % 10) * 512 + (k % 512)]);
    const clustered = await nnEntropy(tight, { dim: 512 });
    expect(clustered.loss).toBeGreaterThan(3);
  });
  it('needs at least two rows', async () => {
    await expect(nnEntropy(new Float32Array(3), { dim: 3 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});

describe('ETF projector applied by its structure', () => {
  for (const [B, d, h] of [[1, 2, 2], [3, 5, 11], [4, 16, 64]]) {
    it(`B=${B} d=${d} h=${h}: equals the dense matrices, and its backward equals finite differences`, async () => {
      const e = randomArray(B * d, d * h);
      const weights = randomArray(B * d, 7); // L = Σ w ⊙ z
      const got = await etfProjector(e, { dim: d, hiddenWidth: h, dz: weights });
      const z = projectorReference(e, B, d, h);
      expect(relativeError(got.z, z)).toBeLessThan(1e-6);
      const fd = finiteDifferences(
        (x) => projectorReference(x, B, d, h).reduce((s, v, k) => s + v * weights[k], 0),
        Float64Array.from(e),
      );
      expectGradientClose(got.de!, fd, 1e-4);
    });
  }
  it('rejects a hidden width below dim', async () => {
    await expect(etfProjector(new Float32Array(8), { dim: 4, hiddenWidth: 3 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(etfProjector(new Float32Array(8), { dim: 1, hiddenWidth: 3 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
