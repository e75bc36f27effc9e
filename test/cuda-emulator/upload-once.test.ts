// The CUDA backend sends a fitted detector's state (KNN bank, linear head, whitened centres) to the device once, not
// once per 32 MiB chunk of queries (core/chunks.h): run on the CPU emulation of the plugin (build.sh), which logs the
// size of every host-to-device copy, with queries of several chunks. The scores must still equal the CPU backend's
// within test/gpu's tolerances. Each case runs in a fresh node, which loads the emulated plugin with its knobs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const PLUGIN = join(REPO, 'build/cuda-emulator/libncod_cuda.so');
const dir = mkdtempSync(join(tmpdir(), 'ncod-upload-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  const r = spawnSync(join(REPO, 'test/cuda-emulator/build.sh'), { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 600_000);

// Runs `body` (an ES module body with detectors, random(n, seed, scale), maxDiff(a, b, rel) and h2d() in scope: h2d()
// returns the sizes of the copies since its last call) and returns the JSON it prints last.
function runEmulated(name: string, body: string, env: Record<string, string> = {}): any {
  const log = join(dir, `${name}.log`);
  const script = `import { readFileSync } from 'node:fs';
    import { detectors } from './lib/index.ts';
    import { gaussian, rng } from './test/helpers/random.ts';
    const random = (n, seed, scale = 1) => { const g = gaussian(rng(seed)); return Float32Array.from({ length: n }, () => scale * g()); };
    // max over rows of |a − b| / (rel·|b| + abs): at most 1 is within test/gpu's tolerance.
    const maxDiff = (a, b, rel, abs) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / (rel * Math.abs(b[i]) + abs)), 0);
    let seen = 0;
    const h2d = () => {
      let lines = [];
      try { lines = readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter(Boolean).map(Number); } catch {}
      const fresh = lines.slice(seen);
      seen = lines.length;
      return fresh;
    };
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env, NCOD_CUDA_PLUGIN: PLUGIN, NCOD_EMU_H2D_LOG: log },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const count = (xs: number[], v: number) => xs.filter((x) => x === v).length;

describe('fitted state crosses to the device once', () => {
  it('KNN: the bank once for two scores of two query chunks each', () => {
    // d = 4096: 2048 query rows per 32 MiB chunk, so 2050 rows are two chunks.
    const d = 4096, bankRows = 20, rows = 2050;
    const r = runEmulated('knn', `
      const features = random(${bankRows * d}, 1), x = random(${rows * d}, 2);
      const cpu = await (await detectors.knn({ k: 3, backend: 'cpu' }).fit({ features, dim: ${d} })).score(x);
      h2d();
      const gpu = await detectors.knn({ k: 3, backend: 'cuda' }).fit({ features, dim: ${d} });
      const first = await gpu.score(x), second = await gpu.score(x);
      console.log(JSON.stringify({ copies: h2d(), diff: Math.max(maxDiff(first, cpu, 0, 1e-5), maxDiff(second, cpu, 0, 1e-5)) }));`);
    const bankBytes = bankRows * d * 4, queryBytes = rows * d * 4;
    expect(count(r.copies, bankBytes)).toBe(1);
    expect(count(r.copies, 2048 * d * 4)).toBe(2); // the first chunk of each score: the queries did go in chunks
    expect(sum(r.copies)).toBe(bankBytes + 2 * queryBytes); // nothing but the bank and the queries
    expect(r.diff).toBeLessThanOrEqual(1);
  }, 300_000);

  // A fresh fit per case, counted with its score: the state crosses once whether it is prepared at fit or at score.
  it('ViM: the head and the whitened centres once per fit and score, whether the queries are one chunk or three', () => {
    // ViM's chunks hold max(d, C) floats per row: C = 4096 gives 2048 rows per chunk, so 4100 rows are three chunks.
    const d = 24, C = 4096, rows = 4100, fewRows = 100;
    const r = runEmulated('vim', `
      const features = random(${3000 * d}, 3), weights = random(${C * d}, 4, 0.2), bias = random(${C}, 5);
      const input = { features, weights, bias, numClasses: ${C} };
      const cpu = await detectors.vim({ principalDim: 8, backend: 'cpu' }).fit(input);
      const out = {};
      for (const [name, n] of [['one', ${fewRows}], ['three', ${rows}]]) {
        const x = random(n * ${d}, 6, 1.2);
        const want = await cpu.score(x);
        h2d();
        const gpu = await detectors.vim({ principalDim: 8, backend: 'cuda' }).fit(input);
        const got = await gpu.score(x);
        out[name] = { copies: h2d(), diff: maxDiff(got, want, 1e-5, 1e-5) };
      }
      console.log(JSON.stringify(out));`);
    const headBytes = C * d * 4, biasBytes = C * 4, chunkBytes = 2048 * d * 4;
    // Each chunk of rows goes once to the centres and once to the head; the rest is the model and the fit's own copies
    // (the same features in both cases; ViM's fit scores them through the head and the centres too).
    const modelBytes = (copies: number[], n: number) => sum(copies) - 2 * n * d * 4;
    for (const [name, n] of [['one', fewRows], ['three', rows]] as const) {
      expect(count(r[name].copies, headBytes), name).toBeGreaterThanOrEqual(1);
      expect(r[name].diff, name).toBeLessThanOrEqual(1);
      expect(modelBytes(r[name].copies, n), name).toBeGreaterThan(headBytes + biasBytes);
    }
    // Three chunks instead of one: two more full chunks, each to the centres and the head, and no more model copies.
    expect(count(r.three.copies, chunkBytes) - count(r.one.copies, chunkBytes)).toBe(4);
    expect(count(r.three.copies, headBytes)).toBe(count(r.one.copies, headBytes));
    expect(count(r.three.copies, biasBytes)).toBe(count(r.one.copies, biasBytes));
    expect(modelBytes(r.three.copies, rows)).toBe(modelBytes(r.one.copies, fewRows));
  }, 300_000);

  it("fDBD: the head and its C×C table once for two scores of two chunks each (ABI 8's kept table)", () => {
    // d = 4096: 2048 rows per chunk, so 2050 rows are two chunks. C = 48: the table (18 432 bytes) differs in size
    // from every other copy (a 2-row chunk is 32 768 bytes, the bias 192).
    const d = 4096, C = 48, rows = 2050;
    const r = runEmulated('fdbd', `
      const input = { features: random(${200 * d}, 9), weights: random(${C * d}, 10, 0.2), bias: random(${C}, 11), numClasses: ${C} };
      const x = random(${rows * d}, 12, 1.2);
      const cpu = await (await detectors.fdbd({ backend: 'cpu' }).fit(input)).score(x);
      h2d();
      const gpu = await detectors.fdbd({ backend: 'cuda' }).fit(input);
      const first = await gpu.score(x), second = await gpu.score(x);
      console.log(JSON.stringify({ copies: h2d(), diff: Math.max(maxDiff(first, cpu, 1e-5, 1e-6), maxDiff(second, cpu, 1e-5, 1e-6)) }));`);
    const tableBytes = C * C * 8, headBytes = C * d * 4, chunkBytes = 2048 * d * 4;
    expect(count(r.copies, chunkBytes)).toBe(2); // the first chunk of each score: the rows did go in chunks
    expect(count(r.copies, headBytes)).toBe(1);
    expect(count(r.copies, tableBytes)).toBe(1);
    expect(r.diff).toBeLessThanOrEqual(1);
  }, 300_000);

  it('a bank the device cannot hold is ERR_OUT_OF_MEMORY, naming the allocation', () => {
    const d = 64, bankRows = 100;
    const r = runEmulated('oom', `
      const fitAndScore = async () => (await detectors.knn({ k: 1, backend: 'cuda' }).fit({ features: random(${bankRows * d}, 7), dim: ${d} })).score(random(${5 * d}, 8));
      console.log(JSON.stringify(await fitAndScore().then(() => ({ code: 'resolved' }), (e) => ({ code: e.code, message: e.message }))));`,
      { NCOD_EMU_MAX_ALLOC: String(bankRows * d * 4 - 1) });
    expect(r.code).toBe('ERR_OUT_OF_MEMORY');
    expect(r.message).toMatch(/CUDA knn_bank_create failed: cudaMalloc\(25600 bytes for KNN fit set\)/);
  }, 120_000);
});
