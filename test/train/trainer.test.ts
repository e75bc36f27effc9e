import { describe, expect, it } from 'vitest';

import { backends, loadCheckpoint, saveCheckpoint, Trainer } from '../../lib/index.js';
import { checkpointTensors } from '../../lib/train/checkpoint.js';
import { readSafetensors, writeSafetensors } from '../../lib/data/index.js';
import { native } from '../../lib/native.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { mlpLossReference, parameterSizes, type MlpShape } from '../helpers/mlp-reference.js';
import { tempDir } from '../helpers/temp-dir.js';
import { finiteDifferences } from '../helpers/training-reference.js';

describe('whole-model gradients match finite differences of a float64 reference', () => {
  const shapes: MlpShape[] = [
    { widths: [5, 4, 3], classes: 3, projectorHidden: 6 },
    { widths: [7, 6], classes: 2, projectorHidden: 0 }, // the baseline: classifier on the encoder output
    { widths: [3, 8, 5, 4], classes: 4, projectorHidden: 4 },
    { widths: [6], classes: 3, projectorHidden: 0 }, // a linear probe: no encoder layer
    { widths: [5, 4, 3], classes: 3, projectorHidden: 6, layerNorm: true },
    { widths: [3, 8, 1, 4], classes: 4, projectorHidden: 0, layerNorm: true }, // a width-1 LayerNorm: output β alone
    { widths: [7, 13], classes: 2, projectorHidden: 13, layerNorm: true },
  ];
  for (const shape of shapes) {
    it(`widths ${shape.widths.join('→')}, C=${shape.classes}, projector ${shape.projectorHidden || 'none'}${shape.layerNorm ? ', LayerNorm' : ''}`, async () => {
      const normal = gaussian(rng(shape.widths.length));
      const params = parameterSizes(shape).map((n) => Float32Array.from({ length: n }, () => 0.7 * normal()));
      const rows = 6;
      const x = Float32Array.from({ length: rows * shape.widths[0] }, () => normal());
      const y = Int32Array.from({ length: rows }, (_, i) => i % shape.classes);
      const alpha = 0.05;
      const got = await native().mlpGradients({ config: shape, params, x, y, rows, alpha, labelSmoothing: 0.1, backend: 'cpu' });
      const flat = Float64Array.from(params.flatMap((p) => Array.from(p)));
      const { loss, neighbours } = mlpLossReference(shape, flat, x, y, alpha, 0.1);
      expect(Math.abs(got.ce + alpha * got.entropy - loss)).toBeLessThan(1e-5 * Math.abs(loss));
      const fd = finiteDifferences((p) => mlpLossReference(shape, p, x, y, alpha, 0.1, neighbours).loss, flat);
      const grads = got.grads.flatMap((g) => Array.from(g));
      const scale = Math.max(...fd.map(Math.abs));
      const worst = Math.max(...grads.map((g, k) => Math.abs(g - fd[k])));
      expect(worst / scale).toBeLessThan(1e-4);
    });
  }
});

describe('Trainer', () => {
  const data = clusters(700, 20, 4, 5, { separation: 1.5 });
  const options = { layers: [20, 32, 16], classes: 4, epochs: 3, warmupEpochs: 0, batch: 64, lr: 3e-3, seed: 11 };

  it('learns separable clusters and is bitwise reproducible for a seed', async () => {
    const a = new Trainer(options);
    const b = new Trainer(options);
    const history = await a.fit(data.features, data.labels);
    await b.fit(data.features, data.labels);
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(history[2].accuracy).toBeGreaterThan(0.9);
    const [pa, pb] = [a.state().params, b.state().params];
    pa.forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(pb[i].buffer))).toBe(true));
    expect((await a.evaluate(data.features, data.labels)).accuracy).toBeGreaterThan(0.9);
  });

  it('with LayerNorm: learns, γ and β train (with weight decay, as every parameter) and features stay post-ReLU', async () => {
    const t = new Trainer({ ...options, layerNorm: true });
    const initial = t.state().params;
    expect(initial.map((p) => p.length)).toEqual([32 * 20, 32, 32, 32, 16 * 32, 16, 16, 16, 4 * 16, 4]);
    expect(Array.from(initial[2])).toEqual(new Array(32).fill(1)); // γ = 1
    expect(Array.from(initial[3])).toEqual(new Array(32).fill(0)); // β = 0
    const history = await t.fit(data.features, data.labels);
    expect(history[2].accuracy).toBeGreaterThan(0.9);
    const trained = t.state().params;
    expect(trained[2].some((g) => g !== 1) && trained[3].some((b) => b !== 0)).toBe(true);
    const enc1 = await t.features(data.features, 'enc1');
    expect(enc1.length).toBe(700 * 32);
    expect(Math.min(...enc1)).toBe(0); // post-ReLU
    // With γ = 1 and β = 10 the ReLU never clips: every row of enc1 is x̂ + 10, of mean 10 and variance ≈ 1.
    const init = new Trainer({ ...options, layerNorm: true }).state();
    init.params[3].fill(10);
    const shifted = await new Trainer(init.options, init).features(data.features, 'enc1');
    for (let r = 0; r < 700; r += 99) {
      const row = Array.from(shifted.subarray(r * 32, (r + 1) * 32));
      const mean = row.reduce((a, v) => a + v, 0) / 32;
      expect(mean).toBeCloseTo(10, 5);
      expect(row.reduce((a, v) => a + (v - mean) ** 2, 0) / 32).toBeCloseTo(1, 3);
    }
    const same = new Trainer({ ...options, layerNorm: true });
    await same.fit(data.features, data.labels);
    same.state().params.forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(trained[i].buffer))).toBe(true));
  });

  it('gives features of every layer with the right widths', async () => {
    const t = new Trainer(options);
    const rows = 700;
    expect((await t.features(data.features, 'enc1')).length).toBe(rows * 32);
    expect((await t.features(data.features, 'encoder')).length).toBe(rows * 16);
    expect((await t.features(data.features, 'proj1')).length).toBe(rows * 64);
    const z = await t.features(data.features, 'projector');
    expect(Math.hypot(...z.subarray(0, 16))).toBeCloseTo(1, 5); // L2-normalised
    expect((await t.features(data.features, 'logits')).length).toBe(rows * 4);
    await expect(t.features(data.features, 'enc3' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const baseline = new Trainer({ ...options, projector: 'none', alpha: 0 });
    await expect(baseline.features(data.features, 'projector')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('aborts between batches with ERR_ABORTED', async () => {
    // A long epoch (50 000 batches of 4 rows), aborted at its first progress report (~100 ms in).
    const big = clusters(200_000, 20, 4, 6);
    const t = new Trainer({ ...options, batch: 4 });
    const before = t.state();
    const controller = new AbortController();
    const progress: number[] = [];
    const run = t.trainEpoch(big.features, big.labels, {
      signal: controller.signal,
      onProgress: (f) => {
        progress.push(f);
        controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(progress[0]).toBeLessThan(1);
    expect(t.epoch).toBe(0);
    // Batches ran before the abort, but none of their updates reached the trainer: it is exactly as before.
    const after = t.state();
    expect(after.step).toBe(before.step);
    for (const key of ['params', 'm', 'v'] as const) {
      before[key].forEach((p, i) => expect(Buffer.from(after[key][i].buffer).equals(Buffer.from(p.buffer)), `${key}[${i}]`).toBe(true));
    }
    const aborted = new AbortController();
    aborted.abort();
    await expect(t.trainEpoch(data.features, data.labels, { signal: aborted.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  const cuda = backends().find((b) => b.name === 'cuda')!;
  it.skipIf(cuda.available)("backend 'cuda' without a usable plugin: ERR_BACKEND_UNAVAILABLE with the reason, trainer untouched", async () => {
    const t = new Trainer({ ...options, backend: 'cuda' });
    const before = t.state();
    const unavailable = { code: 'ERR_BACKEND_UNAVAILABLE', message: expect.stringContaining(cuda.reason ?? '') };
    await expect(t.trainEpoch(data.features, data.labels)).rejects.toMatchObject(unavailable);
    await expect(t.features(data.features, 'encoder')).rejects.toMatchObject(unavailable);
    await expect(native().mlpGradients({ config: t.config, params: before.params, x: data.features.subarray(0, 40), y: data.labels.subarray(0, 2), rows: 2, alpha: 0.05, labelSmoothing: 0.1, backend: 'cuda' })).rejects.toMatchObject(unavailable);
    expect(t.epoch).toBe(0);
    expect(t.state().params).toEqual(before.params);
    // 'auto' falls back to the CPU.
    const auto = new Trainer({ ...options, backend: 'auto' });
    expect((await auto.trainEpoch(data.features, data.labels)).epoch).toBe(1);
  });

  it('rejects bad options and data', async () => {
    expect(() => new Trainer({ ...options, layers: [] })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Trainer({ ...options, classes: 1 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Trainer({ ...options, projectorHidden: 8 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Trainer({ ...options, backend: 'gpu' as never })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => new Trainer({ ...options, layerNorm: 'yes' as never })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const t = new Trainer(options);
    await expect(t.trainEpoch(data.features.subarray(1), data.labels)).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    const y = Int32Array.from(data.labels);
    y[3] = 9;
    await expect(t.trainEpoch(data.features, y)).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE' });
  });
});

describe('checkpoints', () => {
  const data = clusters(500, 12, 3, 8, { separation: 1.5 });
  const options = { layers: [12, 16, 8], classes: 3, epochs: 4, batch: 32, lr: 3e-3, seed: 4 };

  it('resuming from a checkpoint is bit-identical to training straight through', async () => {
    const path = `${tempDir('ncod-ckpt-')}/model.safetensors`;
    const straight = new Trainer(options);
    await straight.fit(data.features, data.labels);
    const first = new Trainer(options);
    await first.trainEpoch(data.features, data.labels);
    await first.trainEpoch(data.features, data.labels);
    await saveCheckpoint(first, path);
    const resumed = await loadCheckpoint(path);
    expect(resumed.epoch).toBe(2);
    await resumed.fit(data.features, data.labels);
    const [a, b] = [straight.state(), resumed.state()];
    expect(b.step).toBe(a.step);
    for (const key of ['params', 'm', 'v'] as const) {
      a[key].forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(b[key][i].buffer)), `${key}[${i}]`).toBe(true));
    }
  });

  it('with LayerNorm too; and a checkpoint written before the layerNorm option existed still loads', async () => {
    const dir = tempDir('ncod-ckpt-');
    const ln = { ...options, layerNorm: true };
    const straight = new Trainer(ln);
    await straight.fit(data.features, data.labels);
    const first = new Trainer(ln);
    await first.trainEpoch(data.features, data.labels);
    await saveCheckpoint(first, `${dir}/ln.safetensors`);
    const resumed = await loadCheckpoint(`${dir}/ln.safetensors`);
    expect(resumed.options.layerNorm).toBe(true);
    await resumed.fit(data.features, data.labels);
    const [a, b] = [straight.state(), resumed.state()];
    for (const key of ['params', 'm', 'v'] as const) {
      a[key].forEach((p, i) => expect(Buffer.from(p.buffer).equals(Buffer.from(b[key][i].buffer)), `${key}[${i}]`).toBe(true));
    }

    // An older checkpoint (format version 1, written before layerNorm existed): the same tensors, layerNorm removed from
    // the stored options, and version 1's SHA-256 over the tensor bytes only.
    const plain = new Trainer(options);
    await plain.trainEpoch(data.features, data.labels);
    await saveCheckpoint(plain, `${dir}/new.safetensors`);
    const { metadata } = await readSafetensors(`${dir}/new.safetensors`);
    const tensors = checkpointTensors(plain.state(), '1'); // version 1's flat, unnamed tensors
    const { layerNorm, ...older } = JSON.parse(metadata.options!);
    expect(layerNorm).toBe(false);
    const { createHash } = await import('node:crypto');
    const legacy = createHash('sha256');
    for (const prefix of ['param', 'adam_m', 'adam_v']) {
      for (let i = 0; tensors.has(`${prefix}.${i}`); i++) legacy.update(Buffer.from(tensors.get(`${prefix}.${i}`)!.data.buffer, tensors.get(`${prefix}.${i}`)!.data.byteOffset, tensors.get(`${prefix}.${i}`)!.data.byteLength));
    }
    await writeSafetensors(`${dir}/old.safetensors`, tensors, { ...metadata, version: '1', options: JSON.stringify(older), sha256: legacy.digest('hex') });
    const loaded = await loadCheckpoint(`${dir}/old.safetensors`);
    expect(loaded.options.layerNorm).toBe(false);
    expect(loaded.state().params).toEqual(plain.state().params);
    expect(await loaded.features(data.features, 'logits')).toEqual(await plain.features(data.features, 'logits'));
  });

  it('a truncated or altered checkpoint is ERR_FILE_FORMAT', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const dir = tempDir('ncod-ckpt-');
    const path = `${dir}/model.safetensors`;
    await saveCheckpoint(new Trainer(options), path);
    const bytes = readFileSync(path);
    writeFileSync(`${dir}/truncated.safetensors`, bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(`${dir}/truncated.safetensors`)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
    const altered = Buffer.from(bytes);
    altered[altered.length - 7] ^= 0x40; // one bit of one weight
    writeFileSync(`${dir}/altered.safetensors`, altered);
    await expect(loadCheckpoint(`${dir}/altered.safetensors`)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringContaining('SHA-256') });
    await expect(loadCheckpoint(`${dir}/missing.safetensors`)).rejects.toBeTruthy();
  });
});
