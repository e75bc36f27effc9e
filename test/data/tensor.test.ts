import { describe, expect, it } from 'vitest';
import * as data from '../../lib/data/index.js';
import { elementCount, toFloat32, toInt32Labels, type Tensor } from '../../lib/data/tensor.js';
import { sample } from './fixtures.js';

describe('tensor helpers', () => {
  it('elementCount multiplies dims and guards overflow', () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([0])).toBe(0);
    expect(elementCount([7, 13])).toBe(91);
    expect(elementCount([0, 2 ** 52])).toBe(0);
    expect(() => elementCount([2 ** 30, 2 ** 30, 2 ** 30])).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => elementCount([2 ** 60, 0])).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => elementCount([-1])).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => elementCount([1.5])).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => elementCount([NaN], 'x', 'ERR_FILE_FORMAT')).toThrow(expect.objectContaining({ code: 'ERR_FILE_FORMAT' }));
  });

  it('toFloat32 returns float32 data as-is and converts the rest', () => {
    const f = sample('float32', [4]);
    expect(toFloat32(f)).toBe(f.data);
    expect(toFloat32(sample('float64', [3]))).toEqual(Float32Array.from([-3, 0.1 - 3, 0.2 - 3]));
    expect(toFloat32({ dtype: 'int64', shape: [2], data: BigInt64Array.from([-5n, 2n ** 40n]) })).toEqual(Float32Array.from([-5, 2 ** 40]));
    expect(toFloat32(sample('uint8', [3]))).toEqual(Float32Array.from([0, 31, 62]));
    expect(toFloat32(sample('int32', [2]))).toEqual(Float32Array.from([-2147483648, 2147483647]));
  });

  it('toInt32Labels accepts int32 (no copy), int64 in range, and uint8', () => {
    const i = sample('int32', [3]);
    expect(toInt32Labels(i)).toBe(i.data);
    expect(toInt32Labels({ dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 9n, -1n]) })).toEqual(Int32Array.from([0, 9, -1]));
    expect(toInt32Labels({ dtype: 'uint8', shape: [2], data: Uint8Array.from([7, 255]) })).toEqual(Int32Array.from([7, 255]));
  });

  it('toInt32Labels rejects out-of-range int64 and float dtypes', () => {
    const big: Tensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from([1n, 2n ** 31n]) };
    expect(() => toInt32Labels(big, 'train labels')).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE', message: expect.stringContaining('train labels[1]') }));
    const small: Tensor = { dtype: 'int64', shape: [1], data: BigInt64Array.from([-(2n ** 31n) - 1n]) };
    expect(() => toInt32Labels(small)).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE' }));
    expect(() => toInt32Labels(sample('float32', [2]))).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
  });

  it('toFloat32 converts float16 and bfloat16 exactly and 64-bit unsigned ints', () => {
    expect(toFloat32({ dtype: 'float16', shape: [3], data: Uint16Array.from([0x3c00, 0x0001, 0xfc00]) })).toEqual(Float32Array.from([1, 2 ** -24, -Infinity]));
    expect(toFloat32({ dtype: 'bfloat16', shape: [2], data: Uint16Array.from([0x4049, 0x8000]) })).toEqual(Float32Array.from([3.140625, -0]));
    expect(toFloat32({ dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) })).toEqual(Float32Array.from([2 ** 64]));
  });

  it('toInt32Labels takes every integer dtype and refuses uint32/uint64 past int32 and float16', () => {
    const cases: Tensor[] = [
      { dtype: 'int8', shape: [2], data: Int8Array.from([-1, 5]) },
      { dtype: 'int16', shape: [2], data: Int16Array.from([-1, 5]) },
      { dtype: 'uint16', shape: [2], data: Uint16Array.from([65535, 5]) },
      { dtype: 'uint32', shape: [2], data: Uint32Array.from([2147483647, 5]) },
      { dtype: 'uint64', shape: [2], data: BigUint64Array.from([2147483647n, 5n]) },
    ];
    expect(cases.map((t) => Array.from(toInt32Labels(t)))).toEqual([[-1, 5], [-1, 5], [65535, 5], [2147483647, 5], [2147483647, 5]]);
    expect(() => toInt32Labels({ dtype: 'uint32', shape: [1], data: Uint32Array.from([2 ** 31]) })).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE' }));
    expect(() => toInt32Labels({ dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 31n]) })).toThrow(expect.objectContaining({ code: 'ERR_LABEL_RANGE' }));
    expect(() => toInt32Labels({ dtype: 'float16', shape: [1], data: Uint16Array.from([0]) })).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
  });

  it('index re-exports the public API', () => {
    for (const name of ['readPt', 'parsePt', 'loadPt', 'flattenTensors', 'unpickle', 'readFeatures', 'readLabels', 'readArray', 'readArrays', 'parseArraySpec', 'halfToFloat32', 'bfloat16ToFloat32', 'parseNpy', 'readNpy', 'encodeNpy', 'writeNpy', 'parseNpz', 'readNpz', 'parseIdx', 'readIdx', 'parseSafetensors', 'readSafetensors', 'encodeSafetensors', 'writeSafetensors', 'toFloat32', 'toInt32Labels', 'elementCount']) {
      expect(typeof (data as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
