// The KNN bank in native memory: appended batch by batch it scores exactly as a bank fitted from one array, it
// saves through small pieces (or refuses past a limit), and its scores match a float64 reference on extreme rows.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { detectors } from '../../lib/index.js';
import { knnSaveLimits } from '../../lib/ood/detectors/knn.js';

let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
const matrix = (rows: number, dim: number, scale = 1) => Float32Array.from({ length: rows * dim }, () => scale * random());

/** Cuts rows×dim features into batches of the given row counts (cycled). */
function batchesOf(features: Float32Array, dim: number, sizes: number[]): { features: Float32Array }[] {
  const out: { features: Float32Array }[] = [];
  const rows = features.length / dim;
  for (let start = 0, i = 0; start < rows; i++) {
    const n = Math.min(sizes[i % sizes.length], rows - start);
    out.push({ features: features.slice(start * dim, (start + n) * dim) });
    start += n;
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'ncod-knn-bank-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('few queries at a time (cpu/knn.cpp: matrix-vector products instead of a GEMM)', () => {
  it('score exactly as the same rows in one large block, across several bank tiles (4500 rows × 77, k = 50)', async () => {
    const dim = 77;
    const knn = await detectors.knn({ k: 50 }).fit({ features: matrix(4500, dim), dim });
    const queries = matrix(64, dim, 3);
    const block = await knn.score(queries);
    for (const n of [1, 2, 3]) {
      for (let start = 0; start + n <= 12; start += n) {
        const part = await knn.score(queries.slice(start * dim, (start + n) * dim));
        expect(Array.from(part)).toEqual(Array.from(block.subarray(start, start + n)));
      }
    }
  });
});

describe('a KNN bank appended batch by batch', () => {
  for (const dim of [3, 77]) {
    it(`scores bit-identically to the array fit (1037 rows × ${dim}, batches of 100, 1 and 389 rows)`, async () => {
      const fit = matrix(1037, dim);
      const queries = matrix(211, dim);
      const whole = await detectors.knn({ k: 13 }).fit({ features: fit, dim });
      const batched = await detectors.knn({ k: 13 }).fit({ batches: batchesOf(fit, dim, [100, 1, 389]), dim });
      const a = await whole.score(queries);
      const b = await batched.score(queries);
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
      expect(batched.fittedState().tensors.bank).toEqual(whole.fittedState().tensors.bank);
      // Prepared once, scored many times: a second call over the same bank gives the same bytes.
      expect(Buffer.from((await batched.score(queries)).buffer).equals(Buffer.from(b.buffer))).toBe(true);
    });
  }

  it('refuses k above the rows of all batches together, and a NaN in a later batch', async () => {
    const fit = matrix(10, 4);
    await expect(detectors.knn({ k: 11 }).fit({ batches: batchesOf(fit, 4, [3]), dim: 4 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/k: expected an integer in \[1, 10\] \(the fit set size\), got 11/),
    });
    const bad = fit.slice();
    bad[9 * 4 + 2] = NaN;
    await expect(detectors.knn({ k: 2 }).fit({ batches: batchesOf(bad, 4, [3]), dim: 4 })).rejects.toMatchObject({ code: 'ERR_NOT_FINITE' });
  });
});

describe('saving a KNN bank', () => {
  it('copies it out in pieces (a forced chunk of 7 rows) to the same file, which loads to the same scores', async () => {
    const dim = 19;
    const fit = matrix(301, dim);
    const queries = matrix(50, dim);
    const det = await detectors.knn({ k: 5 }).fit({ batches: batchesOf(fit, dim, [64, 13]), dim });
    const saved = { ...knnSaveLimits };
    await det.save(join(dir, 'whole.ncod'));
    try {
      knnSaveLimits.readRows = 7;
      await det.save(join(dir, 'pieces.ncod'));
    } finally {
      Object.assign(knnSaveLimits, saved);
    }
    expect(readFileSync(join(dir, 'pieces.ncod')).equals(readFileSync(join(dir, 'whole.ncod')))).toBe(true);
    const loaded = await detectors.load(join(dir, 'pieces.ncod'));
    expect(await loaded.score(queries)).toEqual(await det.score(queries));
    loaded.dispose();
    await expect(loaded.score(queries)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('refuses a bank above the one-tensor limit with ERR_TOO_LARGE naming it (a forced limit of 100 elements)', async () => {
    const det = await detectors.knn({ k: 1 }).fit({ features: matrix(30, 4), dim: 4 });
    const saved = { ...knnSaveLimits };
    try {
      knnSaveLimits.maxElements = 100;
      await expect(det.save(join(dir, 'big.ncod'))).rejects.toMatchObject({
        code: 'ERR_TOO_LARGE',
        message: expect.stringMatching(/expected at most 100 elements .*got 120 \(30 rows × 4\)/),
      });
    } finally {
      Object.assign(knnSaveLimits, saved);
    }
    expect((await det.score(matrix(3, 4))).length).toBe(3); // still fitted
  });
});

describe('KNN scores against a float64 reference', () => {
  it('on rows of extreme scale (1e-30 to 1e30) and zero rows, appended in odd batches', async () => {
    const dim = 9;
    const rows = 97;
    const fit = matrix(rows, dim);
    for (let i = 0; i < rows; i++) {
      const scale = i % 5 === 0 ? 1e30 : i % 5 === 1 ? 1e-30 : i % 5 === 2 ? 3e-20 : 1;
      for (let j = 0; j < dim; j++) fit[i * dim + j] = Math.fround(fit[i * dim + j] * scale);
    }
    fit.fill(0, 4 * dim, 5 * dim); // a zero row stays zero: similarity 0
    const queries = matrix(31, dim, 1e25);
    const k = 7;
    const det = await detectors.knn({ k }).fit({ batches: batchesOf(fit, dim, [10, 3, 1]), dim });
    const got = await det.score(queries);
    // Reference: each row normalised in float64 and rounded to float32 (what the bank stores), dot products in float64.
    const unit = (x: Float32Array, i: number) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i * dim + j] * x[i * dim + j];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      return Array.from({ length: dim }, (_, j) => Math.fround(x[i * dim + j] * inv));
    };
    const bank = Array.from({ length: rows }, (_, i) => unit(fit, i));
    for (let q = 0; q < 31; q++) {
      const u = unit(queries, q);
      const sims = bank.map((b) => b.reduce((s, v, j) => s + v * u[j], 0)).sort((a, b) => b - a);
      expect(Math.abs(got[q] - sims[k - 1])).toBeLessThanOrEqual(1e-15);
    }
  });
});

describe('a KNN bank reserved from the source row count', () => {
  it('scores the same whatever `rows` the source announces (exact, too many, too few), and reserve checks its argument', async () => {
    const dim = 9;
    const fit = matrix(301, dim);
    const queries = matrix(40, dim);
    const whole = await (await detectors.knn({ k: 7 }).fit({ features: fit, dim })).score(queries);
    for (const rows of [301, 5000, 10]) {
      const source = Object.assign(batchesOf(fit, dim, [64]), { rows });
      const scores = await (await detectors.knn({ k: 7 }).fit({ batches: source, dim })).score(queries);
      expect(scores, `rows ${rows}`).toEqual(whole);
    }
    const { native } = await import('../../lib/native.js');
    const bank = new (native().KnnBank)({ dim: 4 });
    expect(() => bank.reserve(-1)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => bank.reserve(2 ** 50)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    bank.reserve(1000);
    expect(bank.rows()).toBe(0);
    bank.dispose();
  });
});
