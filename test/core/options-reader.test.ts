// The raw calls read one options object (native/binding/options_reader.h): each field once, typed arrays copied as
// they are read, messages naming the field; backends by the names of the one registry.
import { describe, expect, it } from 'vitest';

import { BACKENDS, backends } from '../../lib/backend.js';
import { native } from '../../lib/native.js';

const features = () => Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8); // 4 rows × 2
const labels = () => Int32Array.of(0, 1, 0, 1);
const classStatsOptions = () => ({
  features: features(), labels: labels(), rows: 4, dim: 2, numClasses: 2, withScatter: true, allowEmptyClasses: false,
  backend: 'cpu' as const, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), onProgress: () => {},
});

describe('OptionsReader', () => {
  it('reads every field exactly once (a getter runs once)', async () => {
    const reads = new Map<PropertyKey, number>();
    const options = new Proxy(classStatsOptions(), {
      get(target, key, receiver) {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return Reflect.get(target, key, receiver);
      },
    });
    await native().classStats(options);
    expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(Object.keys(classStatsOptions()).map((k) => [k, 1])));
  });

  it('copies arrays as it reads them: a later getter that detaches one cannot change what the call computes', async () => {
    const base = classStatsOptions();
    const x = base.features;
    const options = {
      ...base,
      get numClasses() {
        structuredClone(x.buffer, { transfer: [x.buffer] }); // features were read (and copied) before this field
        return 2;
      },
    };
    const r = await native().classStats(options);
    expect(x.length).toBe(0);
    expect(Array.from(r.counts)).toEqual([2, 2]);
    expect(Array.from(r.sums)).toEqual([1 + 5, 2 + 6, 3 + 7, 4 + 8]);
  });

  it('names nested fields in its messages', () => {
    const params = [new Float32Array(6), new Float32Array(3), new Float32Array(6), new Float32Array(2)];
    const epoch = { batch: 0, alpha: 0, labelSmoothing: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0 };
    const call = (overrides: object) => () =>
      native().trainEpoch({
        config: { widths: [2, 3], classes: 2, projectorHidden: 0 }, params, m: params, v: params, x: features(), y: labels(),
        rows: 4, order: Int32Array.of(0, 1, 2, 3), epoch, backend: 'cpu', ...overrides,
      });
    expect(call({})).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^options\.epoch\.batch: expected an integer in \[1, \d+\], got 0/) }));
    expect(call({ epoch: { ...epoch, batch: 2, lr: Number.NaN } })).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'options.epoch.lr: expected a finite number, got a non-finite number' }),
    );
    expect(call({ config: { widths: 'x', classes: 2, projectorHidden: 0 } })).toThrowError(
      expect.objectContaining({ message: 'options.config.widths: expected an array, got a string' }),
    );
    expect(call({ epoch: 5 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'options.epoch: expected an object, got 5.000000' }));
  });

  it('the accumulator methods take options objects too', async () => {
    const acc = new (native().NcAccumulator)({ dim: 2, numClasses: 2, backend: 'cpu' });
    await acc.add({ features: features(), labels: labels(), rows: 4 });
    expect(() => acc.add({ features: features(), labels: labels(), rows: 3 })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => acc.finalize({ weightedGlobalMean: 'no' as never })).toThrowError(
      expect.objectContaining({ message: 'options.weightedGlobalMean: expected a boolean, got a string' }),
    );
    expect(() => native().NcAccumulator.fromState({ state: { ...acc.state(), shift: [0, 0] as never }, backend: 'cpu' })).toThrowError(
      expect.objectContaining({ code: 'ERR_DTYPE', message: 'options.state.shift: expected Float64Array, got Array' }),
    );
    const again = native().NcAccumulator.fromState({ state: acc.state(), backend: 'cpu' });
    const m = await again.finalize({ weightedGlobalMean: false });
    expect(m.n).toBe(4);
  });
});

describe('the backend registry', () => {
  it('lists its backends in the order of lib/backend-names.ts BACKENDS', () => {
    expect(backends().map((b) => b.name)).toEqual([...BACKENDS]);
    expect(backends()[0]).toMatchObject({ name: 'cpu', available: true, reason: null });
  });

  it('a raw call on a backend that is not available rejects with its reason', async () => {
    const cuda = backends().find((b) => b.name === 'cuda')!;
    const call = native().classStats({ ...classStatsOptions(), backend: 'cuda' });
    if (cuda.available) await expect(call).resolves.toMatchObject({ counts: Float64Array.of(2, 2) });
    else await expect(call).rejects.toMatchObject({ code: 'ERR_BACKEND_UNAVAILABLE', message: expect.stringContaining(cuda.reason!) });
  });
});
