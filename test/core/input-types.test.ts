// The JS API takes Float64Array features and any integer typed array as labels, converted once in validate.ts:
// every entry point gives exactly what it gives for the float32 / int32 arrays holding the same values.
import { describe, expect, it } from 'vitest';
import { LinearProbe, NcAccumulator, Trainer, classStats, detectors, ncMetrics } from '../../lib/index.js';
import { checkFloat32, checkInt32 } from '../../lib/validate.js';
import { clusters } from '../helpers/random.js';

const N = 90;
const DIM = 5;
const C = 3;
const data = clusters(N, DIM, C, 7);
const f64 = Float64Array.from(data.features); // exactly the float32 values, widened
const LABEL_ARRAYS = {
  Int8Array: Int8Array.from(data.labels),
  Int16Array: Int16Array.from(data.labels),
  Uint8Array: Uint8Array.from(data.labels),
  Uint16Array: Uint16Array.from(data.labels),
  Uint32Array: Uint32Array.from(data.labels),
  BigInt64Array: BigInt64Array.from(data.labels, BigInt),
  BigUint64Array: BigUint64Array.from(data.labels, BigInt),
};

describe('checkFloat32 / checkInt32', () => {
  it('pass float32 / int32 through without a copy', () => {
    expect(checkFloat32('x', data.features)).toBe(data.features);
    expect(checkInt32('y', data.labels)).toBe(data.labels);
  });

  it('convert float64 (NaN and ±Infinity kept for the finiteness checks) and every integer array', () => {
    expect(checkFloat32('x', Float64Array.from([0.1, NaN, -Infinity, 3.4028235e38]))).toEqual(Float32Array.from([0.1, NaN, -Infinity, 3.4028234663852886e38]));
    for (const [name, labels] of Object.entries(LABEL_ARRAYS)) expect(checkInt32('y', labels), name).toEqual(data.labels);
  });

  it('refuse float64 values that would overflow float32, labels outside int32, and other types', () => {
    expect(() => checkFloat32('x', Float64Array.from([1, -1e39]))).toThrow(expect.objectContaining({ code: 'ERR_NOT_FINITE', message: 'x[1]: expected a value within float32 range (|x| ≤ 3.4028235e38), got -1e+39' }));
    expect(() => checkInt32('y', Uint32Array.from([0, 2 ** 31]))).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE', message: 'y[1]: expected a value within int32 range, got 2147483648' }));
    expect(() => checkInt32('y', BigInt64Array.from([-(2n ** 31n) - 1n]))).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE' }));
    expect(() => checkInt32('y', BigUint64Array.from([2n ** 63n]))).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE' }));
    expect(() => checkInt32('y', Float32Array.from([1]))).toThrow(expect.objectContaining({ code: 'ERR_DTYPE', message: expect.stringContaining('got Float32Array(1)') }));
    expect(() => checkFloat32('x', [1, 2])).toThrow(expect.objectContaining({ code: 'ERR_DTYPE', message: 'x: expected Float32Array or Float64Array, got Array(2)' }));
  });
});

describe('every API entry accepts them', () => {
  it('ncMetrics and classStats', async () => {
    const want = await ncMetrics({ features: data.features, labels: data.labels, numClasses: C });
    for (const [name, labels] of Object.entries(LABEL_ARRAYS)) {
      expect(await ncMetrics({ features: f64, labels, numClasses: C }), name).toEqual(want);
    }
    const stats = await classStats(data.features, data.labels, { numClasses: C });
    expect(await classStats(f64, LABEL_ARRAYS.BigInt64Array, { numClasses: C })).toEqual(stats);
  });

  it('NcAccumulator.add / addOod', async () => {
    const a = new NcAccumulator({ dim: DIM, numClasses: C });
    const b = new NcAccumulator({ dim: DIM, numClasses: C });
    await a.add(data.features, data.labels);
    await b.add(f64, LABEL_ARRAYS.Uint8Array);
    await a.addOod(data.features);
    await b.addOod(f64);
    expect(b.state()).toEqual(a.state());
  });

  it("detectors' fit and score", async () => {
    const m32 = await detectors.mahalanobis().fit({ features: data.features, labels: data.labels, numClasses: C, dim: DIM });
    const m64 = await detectors.mahalanobis().fit({ features: f64, labels: LABEL_ARRAYS.Int16Array, numClasses: C, dim: DIM });
    expect(await m64.score(f64)).toEqual(await m32.score(data.features));
    const k32 = await detectors.knn({ k: 3 }).fit({ features: data.features, dim: DIM });
    const k64 = await detectors.knn({ k: 3 }).fit({ features: f64, dim: DIM });
    expect(await k64.score(f64)).toEqual(await k32.score(data.features));
    const logits = data.features.subarray(0, 30 * C);
    expect(await detectors.energy().score({ logits: Float64Array.from(logits), numClasses: C })).toEqual(await detectors.energy().score({ logits, numClasses: C }));
  });

  it('Trainer and LinearProbe', async () => {
    const options = { layers: [DIM, 8], classes: C, epochs: 2, warmupEpochs: 0, batch: 32, seed: 3 };
    const a = new Trainer(options);
    const b = new Trainer(options);
    expect((await b.fit(f64, LABEL_ARRAYS.BigUint64Array)).map((h) => h.loss)).toEqual((await a.fit(data.features, data.labels)).map((h) => h.loss));
    expect(await b.evaluate(f64, LABEL_ARRAYS.Uint32Array)).toEqual(await a.evaluate(data.features, data.labels));
    const p32 = await LinearProbe.fit({ features: data.features, labels: data.labels, numClasses: C, epochs: 2 });
    const p64 = await LinearProbe.fit({ features: f64, labels: LABEL_ARRAYS.Int8Array, numClasses: C, epochs: 2 });
    expect(p64.weights()).toEqual(p32.weights());
    expect(await p64.accuracy(f64, LABEL_ARRAYS.Uint16Array)).toBe(await p32.accuracy(data.features, data.labels));
  });
});
