// Every error code classStats and the raw binding can raise, from TS and straight from C++.
import { describe, expect, it } from 'vitest';

import { backends, classStats, NcodError, setThreads } from '../../lib/index.js';
import { native } from '../../lib/native.js';

const features = new Float32Array([1, 2, 3, 4, 5, 6]); // 3 rows × 2
const labels = new Int32Array([0, 1, 1]);

const validOptions = { features, labels, rows: 3, dim: 2, numClasses: 2, withScatter: false, allowEmptyClasses: false, backend: 'cpu' };

function rawClassStats(overrides: Record<string, unknown> = {}, ...extraArguments: unknown[]): () => unknown {
  const fn = native().classStats as unknown as (...a: unknown[]) => unknown;
  return () => fn({ ...validOptions, ...overrides }, ...extraArguments);
}

function expectThrowCode(fn: () => unknown, code: string, message?: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NcodError);
  expect((caught as NcodError).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('raw binding validates in C++', () => {
  it('wrong argument count', () => expectThrowCode(rawClassStats({}, 3, 4), 'ERR_INVALID_ARGUMENT', /expected 1 arguments, got 3/));
  it('options that are not an object', () => {
    const fn = native().classStats as unknown as (...a: unknown[]) => unknown;
    expectThrowCode(() => fn('x'), 'ERR_INVALID_ARGUMENT', /^classStats: expected an options object, got a string$/);
    expectThrowCode(() => fn([validOptions]), 'ERR_INVALID_ARGUMENT', /classStats: expected an options object, got Array/);
  });
  it('features of the wrong dtype', () =>
    expectThrowCode(rawClassStats({ features: new Float64Array(6) }), 'ERR_DTYPE', /options\.features: expected Float32Array, got Float64Array/));
  it('features that are not an array', () => expectThrowCode(rawClassStats({ features: 'x' }), 'ERR_DTYPE', /got a string/));
  it('features missing', () => expectThrowCode(rawClassStats({ features: undefined }), 'ERR_DTYPE', /options\.features: expected Float32Array, got undefined/));
  it('labels of the wrong dtype', () =>
    expectThrowCode(rawClassStats({ labels: new Uint32Array(3) }), 'ERR_DTYPE', /expected Int32Array, got Uint32Array/));
  it('rows × dim not matching the features', () => expectThrowCode(rawClassStats({ dim: 3 }), 'ERR_SHAPE', /expected 3 × 3 elements, got 6/));
  it('zero rows', () => expectThrowCode(rawClassStats({ rows: 0, dim: 2 }), 'ERR_SHAPE'));
  it('labels of the wrong length', () =>
    expectThrowCode(rawClassStats({ labels: new Int32Array(2) }), 'ERR_SHAPE', /expected 3 labels/));
  it('a negative or fractional count', () => {
    expectThrowCode(rawClassStats({ numClasses: -1 }), 'ERR_INVALID_ARGUMENT', /options\.numClasses: expected an integer/);
    expectThrowCode(rawClassStats({ numClasses: 1.5 }), 'ERR_INVALID_ARGUMENT');
    expectThrowCode(rawClassStats({ numClasses: Number.NaN }), 'ERR_INVALID_ARGUMENT');
  });
  it('zero classes', () => expectThrowCode(rawClassStats({ numClasses: 0 }), 'ERR_INVALID_ARGUMENT', /options\.numClasses: expected an integer in \[1, /));
  it('a backend by a name the registry does not hold, or by number', () => {
    expectThrowCode(rawClassStats({ backend: 'tpu' }), 'ERR_INVALID_ARGUMENT', /^options\.backend: expected 'cpu' or 'cuda', got 'tpu'$/);
    expectThrowCode(rawClassStats({ backend: 0 }), 'ERR_INVALID_ARGUMENT', /options\.backend: expected 'cpu' or 'cuda', got 0/);
    expectThrowCode(rawClassStats({ backend: undefined }), 'ERR_INVALID_ARGUMENT', /got undefined/);
  });
  it('a non-boolean flag', () => expectThrowCode(rawClassStats({ withScatter: 1 }), 'ERR_INVALID_ARGUMENT', /options\.withScatter: expected a boolean/));
  it('a cancel flag of the wrong type', () => expectThrowCode(rawClassStats({ cancelFlag: [0] }), 'ERR_DTYPE'));
  it('an empty cancel flag', () => expectThrowCode(rawClassStats({ cancelFlag: new Int32Array(0) }), 'ERR_SHAPE'));
  it('a progress callback that is not a function', () =>
    expectThrowCode(rawClassStats({ onProgress: 42 }), 'ERR_INVALID_ARGUMENT', /options\.onProgress: expected a function/));
  it('setThreads with 0', () => expectThrowCode(() => native().setThreads(0), 'ERR_INVALID_ARGUMENT'));
  it('setErrorClass without a function', () =>
    expectThrowCode(() => (native().setErrorClass as (x: unknown) => void)(undefined), 'ERR_INVALID_ARGUMENT'));

  it('labels out of range reject with the index', async () => {
    await expect(
      native().classStats({ ...validOptions, backend: 'cpu', labels: new Int32Array([0, 2, 1]) }),
    ).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE', message: expect.stringMatching(/labels\[1\]: expected an integer in \[0, 2\), got 2/) });
  });
  it('an empty class rejects', async () => {
    await expect(
      native().classStats({ ...validOptions, backend: 'cpu', labels: new Int32Array([0, 0, 0]) }),
    ).rejects.toMatchObject({ code: 'ERR_EMPTY_CLASS', message: expect.stringMatching(/class 1: expected at least one sample/) });
  });
});

describe('public API errors', () => {
  it('NaN and Inf name the offending row and column', async () => {
    const x = Float32Array.from(features);
    x[3] = Number.NaN;
    await expect(classStats(x, labels, { numClasses: 2 })).rejects.toMatchObject({
      code: 'ERR_NOT_FINITE',
      message: expect.stringMatching(/features\[1, 1\]: expected a finite number/),
    });
    x[3] = 4;
    x[4] = Number.NEGATIVE_INFINITY;
    await expect(classStats(x, labels, { numClasses: 2, scatter: true })).rejects.toMatchObject({
      code: 'ERR_NOT_FINITE',
      message: expect.stringMatching(/features\[2, 0\]/),
    });
  });
  it('wrong dtypes are caught in TS first', async () => {
    await expect(classStats(new Int16Array(6) as never, labels, { numClasses: 2 })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
    await expect(classStats(features, [0, 1, 1] as never, { numClasses: 2 })).rejects.toMatchObject({ code: 'ERR_DTYPE' });
  });
  it('a dim that does not divide the features', async () => {
    await expect(classStats(features, labels, { numClasses: 2, dim: 4 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(classStats(new Float32Array(7), labels, { numClasses: 2 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
  it('bad numClasses and backend names', async () => {
    await expect(classStats(features, labels, { numClasses: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(classStats(features, labels, { numClasses: 2, backend: 'tpu' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expect(() => setThreads(0)).toThrowError(NcodError);
  });
  const cuda = backends().find((b) => b.name === 'cuda')!;
  it.skipIf(cuda.available)('the cuda backend is unavailable with a reason when there is no GPU', async () => {
    expect(cuda.reason).toMatch(/\S/);
    await expect(classStats(features, labels, { numClasses: 2, backend: 'cuda' })).rejects.toMatchObject({
      code: 'ERR_BACKEND_UNAVAILABLE',
      message: expect.stringContaining(cuda.reason!),
    });
  });
});
