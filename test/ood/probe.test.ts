import { describe, expect, it } from 'vitest';

import { evaluateOOD } from '../../lib/ood/evaluate.js';
import { LinearProbe } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';

describe('LinearProbe', () => {
  const dim = 24;
  const id = clusters(1200, dim, 4, 1, { separation: 2 });
  const test = clusters(400, dim, 4, 2, { separation: 2 });
  // OOD: class-less noise around the origin, where a linear probe's logits (and so its energy) are small.
  const ood = clusters(400, dim, 3, 3, { separation: 0 }).features.map((v) => 0.2 * v);

  it('learns the classes; its energy is T·logsumexp(logits/T) and separates ID from OOD', async () => {
    // Trained enough for meaningful logits (at lr 1e-3 this tiny set gives only 75 steps and logits ≈ 0).
    const probe = await LinearProbe.fit({ features: id.features, labels: id.labels, numClasses: 4, epochs: 20, lr: 1e-2 });
    expect(await probe.accuracy(test.features, test.labels)).toBeGreaterThan(0.9);
    const logits = await probe.logits(test.features);
    for (const T of [1, 2.5]) {
      const energy = await probe.energy(test.features, T);
      for (let i = 0; i < 5; i++) {
        const z = Array.from(logits.subarray(i * 4, i * 4 + 4), (v) => v / T);
        const max = Math.max(...z);
        expect(energy[i]).toBeCloseTo(T * (max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0))), 10);
      }
    }
    // A sanity check of the pipeline, not of energy scoring: label smoothing bounds the logit gap (≈ 3.6 for
    // K = 4) and Adam lets a logit component shared by all classes drift, so toy data stay well below AUROC 1.
    const [idEnergy, oodEnergy] = [await probe.energy(test.features), await probe.energy(ood)];
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(idEnergy)).toBeGreaterThan(mean(oodEnergy));
    expect(evaluateOOD(idEnergy, oodEnergy).auroc).toBeGreaterThan(0.75);
    const { weights, bias } = probe.weights();
    expect([weights.length, bias.length]).toEqual([4 * dim, 4]);
  });

  it('with normalize, scaling the features changes nothing', async () => {
    const scaled = id.features.map((v) => 7 * v);
    const options = { labels: id.labels, numClasses: 4, epochs: 3, normalize: true };
    const a = await LinearProbe.fit({ ...options, features: id.features });
    const b = await LinearProbe.fit({ ...options, features: scaled });
    const [ea, eb] = [await a.energy(test.features), await b.energy(test.features.map((v) => 3 * v))];
    ea.forEach((v, i) => expect(eb[i]).toBeCloseTo(v, 4));
  });

  it('rejects bad input', async () => {
    await expect(LinearProbe.fit({ features: id.features, labels: id.labels.subarray(1), numClasses: 4 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(LinearProbe.fit({ features: id.features, labels: id.labels, numClasses: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
