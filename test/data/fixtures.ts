/** Test helpers: temp dirs, python3/numpy fixtures, deterministic sample tensors mirrored in TS and Python. */
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import type { DType, Tensor } from '../../lib/data/tensor.js';
import { findPython } from '../helpers/python.js';
import { tempDir } from '../helpers/temp-dir.js';

export const ALL_DTYPES: DType[] = ['float32', 'float64', 'int32', 'int64', 'uint8'];
export const SHAPES: number[][] = [[], [0], [1], [7, 13], [2, 3, 4]];

/** A fresh temp dir, removed after the test file finishes. */
export function tmpDir(): string {
  return tempDir('ncod-data-');
}

/**
 * Runs a Python snippet (with numpy and the `sample` helper predefined) and returns its stdout.
 * No skipping: if no python with numpy is found this throws and the test fails.
 */
export function python(script: string, ...args: string[]): string {
  return execFileSync(findPython(['numpy']), ['-c', `${PY_PRELUDE}\n${script}`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** Shape as a file-name-safe string: [] -> "scalar", [7, 13] -> "7x13". */
export function shapeName(shape: number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('x');
}

/**
 * Deterministic values for `dtype` and `shape`; PY_PRELUDE's `sample` computes the same values.
 * Integer types put the type's extremes at the first and last positions.
 */
export function sample(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = Array.from({ length: n }, (_, i) => i);
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from(idx, (i) => (i % 97) * 0.25 - 12) };
    case 'float64':
      return { dtype, shape, data: Float64Array.from(idx, (i) => i * 0.1 - 3) };
    case 'int32': {
      const data = Int32Array.from(idx, (i) => i * 7919 - 50000);
      return { dtype, shape, data: withExtremes(data, -2147483648, 2147483647) };
    }
    case 'int64': {
      const data = BigInt64Array.from(idx, (i) => BigInt(i) * 123456789012345n - 2n ** 62n);
      return { dtype, shape, data: withExtremes(data, -(2n ** 63n), 2n ** 63n - 1n) };
    }
    case 'uint8':
      return { dtype, shape, data: Uint8Array.from(idx, (i) => (i * 31) % 256) };
    default:
      throw new Error(`sample: no values defined for ${dtype}`);
  }
}

function withExtremes<A extends Int32Array | BigInt64Array>(data: A, min: A[number], max: A[number]): A {
  if (data.length >= 2) {
    data[0] = min;
    data[data.length - 1] = max;
  }
  return data;
}

const PY_PRELUDE = `
import sys, os, json, struct
import numpy as np


NP_DTYPES = {'float32': np.float32, 'float64': np.float64, 'int32': np.int32, 'int64': np.int64, 'uint8': np.uint8}

def sample(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    if dtype == 'float32':
        a = ((i % 97) * 0.25 - 12).astype(np.float32)
    elif dtype == 'float64':
        a = i * 0.1 - 3
    elif dtype == 'int32':
        a = (i * 7919 - 50000).astype(np.int32)
        if n >= 2: a[0], a[-1] = -2**31, 2**31 - 1
    elif dtype == 'int64':
        a = i * 123456789012345 - 2**62
        if n >= 2: a[0], a[-1] = -2**63, 2**63 - 1
    else:
        a = ((i * 31) % 256).astype(np.uint8)
    return a.reshape(shape)

def shape_name(shape):
    return 'scalar' if len(shape) == 0 else 'x'.join(map(str, shape))

def check_equal(name, got, want):
    assert got.dtype == want.dtype, f'{name}: dtype {got.dtype} != {want.dtype}'
    assert got.shape == want.shape, f'{name}: shape {got.shape} != {want.shape}'
    assert np.array_equal(got, want), f'{name}: values differ'
`;

/** Asserts that `fn` throws an NcodError with code ERR_FILE_FORMAT; returns the message for further checks. */
export function expectFormatError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ name: 'NcodError', code: 'ERR_FILE_FORMAT' });
    return (err as Error).message;
  }
  throw new Error('expected an ERR_FILE_FORMAT error, but nothing was thrown');
}

/** Index of the first occurrence of `needle` in `hay` at or after `from`, or -1. */
export function indexOf(hay: Uint8Array, needle: number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
