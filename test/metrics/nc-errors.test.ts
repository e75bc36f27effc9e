// Bad input to ncMetrics: a clear NcodError with a stable code, never a crash.
import { describe, expect, it } from 'vitest';

import { ncMetrics } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { clusters } from '../helpers/random.js';

const { features, labels } = clusters(60, 5, 3, 1);
const base = { features, labels, numClasses: 3 };

describe('ncMetrics rejects bad input', () => {
  it('NaN and Inf with the offending index', async () => {
    const x = Float32Array.from(features);
    x[7 * 5 + 2] = Number.NaN;
    await expect(ncMetrics({ ...base, features: x })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE', message: expect.stringContaining('features[7, 2]') });
    const w = new Float32Array(15);
    w[4] = Number.POSITIVE_INFINITY;
    await expect(ncMetrics({ ...base, weights: w })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE', message: expect.stringContaining('weights[0, 4]') });
    const o = new Float32Array(10);
    o[9] = Number.NaN;
    await expect(ncMetrics({ ...base, oodFeatures: o })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE', message: expect.stringContaining('oodFeatures[1, 4]') });
  });
  it('labels out of range', async () => {
    const y = Int32Array.from(labels);
    y[11] = -1;
    await expect(ncMetrics({ ...base, labels: y })).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE', message: expect.stringContaining('labels[11]') });
  });
  it('an empty class', async () => {
    await expect(ncMetrics({ ...base, numClasses: 4 })).rejects.toMatchObject({ code: 'ERR_EMPTY_CLASS', message: expect.stringContaining('class 3') });
  });
  it('fewer than two classes', async () => {
    await expect(ncMetrics({ ...base, labels: new Int32Array(60), numClasses: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
  it('mismatched lengths and shapes', async () => {
    await expect(ncMetrics({ ...base, labels: labels.subarray(1) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(ncMetrics({ ...base, dim: 4 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(ncMetrics({ ...base, weights: new Float32Array(14) })).rejects.toMatchObject({ code: 'ERR_SHAPE', message: expect.stringContaining('3 × 5') });
    await expect(ncMetrics({ ...base, weights: new Float32Array(15), bias: new Float32Array(2) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(ncMetrics({ ...base, oodFeatures: new Float32Array(7) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
  it('wrong dtypes', async () => {
    // Float64Array features and any integer labels are accepted (converted); other array types are not.
    await expect(ncMetrics({ ...base, features: new Int32Array(300) as never })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
    await expect(ncMetrics({ ...base, labels: new Float32Array(60) as never })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
    await expect(ncMetrics({ ...base, weights: [0, 1] as never })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
  });
  it('bias without weights, bad rank tolerance', async () => {
    await expect(ncMetrics({ ...base, bias: new Float32Array(3) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(ncMetrics({ ...base, rankTolerance: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
  it('the raw binding validates too', () => {
    const raw = native().ncMetrics as unknown as (o: unknown) => unknown;
    const valid = { features, labels, rows: 60, dim: 5, numClasses: 3, weightedGlobalMean: false, backend: 'cpu' };
    const call = (overrides: Record<string, unknown>) => () => raw({ ...valid, ...overrides });
    expect(call({ weights: new Float32Array(14) })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE', message: expect.stringMatching(/^options\.weights: expected 3 × 5 elements/) }));
    expect(call({ weights: new Float32Array(0) })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' })); // given, but empty
    expect(call({ oodFeatures: new Float32Array(10) })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })); // no oodRows
    expect(call({ oodFeatures: new Float32Array(10), oodRows: 0 })).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(call({ numClasses: 1 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(call({ rankTolerance: 'x' })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('options.rankTolerance') }));
    expect(call({ rankTolerance: 1 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(call({ bias: new Float32Array(3) })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })); // bias without weights
    expect(call({ rankTolerance: -Infinity })).not.toThrow(); // any negative tolerance asks for the default
  });
});
