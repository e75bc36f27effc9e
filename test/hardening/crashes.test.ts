// Issue #15, crashes 1–4: inputs changed, transferred or shrunk while a call runs; a worker thread terminated with
// calls in flight; thread counts beyond what the system can start. Each runs in a child process: a regression shows
// as a signal (SIGSEGV, SIGABRT) or a hang in the assertion message, not as a dead vitest worker.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { describeChild, lastJson, runChild } from './child.js';

async function expectClean(script: string, options: Parameters<typeof runChild>[1] = {}) {
  const r = await runChild(script, options);
  expect(r.signal, describeChild(r)).toBeNull();
  expect(r.timedOut, describeChild(r)).toBe(false);
  expect(r.code, describeChild(r)).toBe(0);
  return lastJson<Record<string, unknown>>(r);
}

// 4M rows × 16 (256 MB): long enough that progress reports arrive while the call runs.
const bigLabelled = `
const n = 4_000_000, d = 16;
const x = new Float32Array(n * d).fill(0.5);
const y = Int32Array.from({ length: n }, (_, i) => i % 4);
let changed = false;
const corrupt = () => { if (!changed) { changed = true; y[n - 1] = 0x7fffffff; y[0] = -5; } };
`;

describe('labels changed during a call are not read again (crash 1)', () => {
  it('classStats: onProgress corrupts the labels; the call uses the labels it validated', async () => {
    const out = await expectClean(`
      import { classStats } from 'NCOD';
      ${bigLabelled}
      const r = await classStats(x, y, { numClasses: 4, scatter: true, onProgress: corrupt });
      console.log(JSON.stringify({ changed, counts: Array.from(r.counts) }));
    `);
    expect(out).toEqual({ changed: true, counts: [1e6, 1e6, 1e6, 1e6] });
  }, 120_000);

  it('ncMetrics (two passes over the labels)', async () => {
    const out = await expectClean(`
      import { ncMetrics } from 'NCOD';
      ${bigLabelled}
      for (let i = 0; i < n * d; i++) x[i] = (i % d) === (Math.floor(i / d) % 4) ? 1 : 0.01 * ((i * 7919) % 13);
      const r = await ncMetrics({ features: x, labels: y, numClasses: 4, onProgress: corrupt });
      console.log(JSON.stringify({ changed, n: r.n, finite: Number.isFinite(r.nc1) }));
    `);
    expect(out).toEqual({ changed: true, n: 4e6, finite: true });
  }, 120_000);

  it('NcAccumulator.add', async () => {
    const out = await expectClean(`
      import { NcAccumulator } from 'NCOD';
      ${bigLabelled}
      const acc = new NcAccumulator({ dim: d, numClasses: 4 });
      await acc.add(x, y, { onProgress: corrupt });
      console.log(JSON.stringify({ changed, counts: Array.from(acc.state().counts) }));
    `);
    expect(out).toEqual({ changed: true, counts: [1e6, 1e6, 1e6, 1e6] });
  }, 120_000);

  it('the Mahalanobis fit', async () => {
    const out = await expectClean(`
      import { detectors } from 'NCOD';
      ${bigLabelled}
      for (let i = 0; i < n * d; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
      const det = await detectors.mahalanobis().fit({ features: x, labels: y, numClasses: 4 }, { onProgress: corrupt });
      const s = await det.score(x.subarray(0, 4 * d));
      console.log(JSON.stringify({ changed, finite: Array.from(s).every(Number.isFinite) }));
    `);
    expect(out).toEqual({ changed: true, finite: true });
  }, 120_000);

  it('labels on a SharedArrayBuffer changed by another thread while the call runs', async () => {
    const out = await expectClean(`
      import { Worker } from 'node:worker_threads';
      import { classStats } from 'NCOD';
      const n = 4_000_000, d = 16;
      const x = new Float32Array(n * d).fill(0.5);
      const y = new Int32Array(new SharedArrayBuffer(4 * n));
      for (let i = 0; i < n; i++) y[i] = i % 4;
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const w = new Worker(\`
        const { workerData } = require('node:worker_threads');
        const [y, stop] = workerData; let k = 0;
        while (Atomics.load(stop, 0) === 0) { y[(k = (k * 1103515245 + 12345) >>> 0) % y.length] = 0x7fffffff; }
      \`, { eval: true, workerData: [y, stop] });
      await new Promise((r) => setTimeout(r, 50));
      let result = 'resolved';
      try { await classStats(x, y, { numClasses: 4 }); } catch (e) { result = e.code; }
      Atomics.store(stop, 0, 1);
      await w.terminate();
      console.log(JSON.stringify({ result }));
    `);
    // Whether the labels validate depends on timing; either way the call settles, with the labels it validated.
    expect(['resolved', 'ERR_LABEL_RANGE']).toContain(out.result);
  }, 120_000);
});

describe('input buffers transferred or shrunk during a call (crash 2)', () => {
  it('features transferred away (structuredClone with transfer) and collected while ncMetrics runs', async () => {
    const out = await expectClean(`
      import { ncMetrics } from 'NCOD';
      ${bigLabelled}
      for (let i = 0; i < n * d; i++) x[i] = (i % d) === (Math.floor(i / d) % 4) ? 1 : 0.01 * ((i * 7919) % 13);
      const call = ncMetrics({ features: x, labels: y, numClasses: 4 });
      structuredClone(x.buffer, { transfer: [x.buffer] }); // detached here; the clone is garbage at once
      globalThis.gc();
      const filler = []; for (let k = 0; k < 8; k++) filler.push(new Float32Array(n * d / 4).fill(1e30));
      const r = await call;
      console.log(JSON.stringify({ detached: x.length === 0, n: r.n, finite: Number.isFinite(r.nc1) }));
    `, { nodeArgs: ['--expose-gc'] });
    expect(out).toEqual({ detached: true, n: 4e6, finite: true });
  }, 120_000);

  it('features posted to a worker (transfer list) while a detector scores them', async () => {
    const out = await expectClean(`
      import { MessageChannel } from 'node:worker_threads';
      import { detectors } from 'NCOD';
      const d = 16, C = 4, n = 2_000_000;
      const fitX = Float32Array.from({ length: 400 * d }, (_, i) => ((i * 2654435761) % 1000) / 1000);
      const fitY = Int32Array.from({ length: 400 }, (_, i) => i % C);
      const det = await detectors.mahalanobis().fit({ features: fitX, labels: fitY, numClasses: C });
      const x = new Float32Array(n * d).fill(0.25);
      const call = det.score(x);
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(x.buffer, [x.buffer]);
      port1.close(); port2.close();
      globalThis.gc();
      const s = await call;
      console.log(JSON.stringify({ detached: x.length === 0, rows: s.length, same: s[0] === s[n - 1] }));
    `, { nodeArgs: ['--expose-gc'] });
    expect(out).toEqual({ detached: true, rows: 2e6, same: true });
  }, 120_000);

  it('a resizable ArrayBuffer shrunk while classStats runs', async () => {
    const out = await expectClean(`
      import { classStats } from 'NCOD';
      const n = 2_000_000, d = 16;
      const buffer = new ArrayBuffer(4 * n * d, { maxByteLength: 4 * n * d });
      const x = new Float32Array(buffer).fill(0.5);
      const y = Int32Array.from({ length: n }, (_, i) => i % 4);
      let shrunk = false;
      const r = await classStats(x, y, { numClasses: 4, dim: d, onProgress: () => { if (!shrunk) { shrunk = true; buffer.resize(0); } } });
      console.log(JSON.stringify({ shrunk, counts: Array.from(r.counts) }));
    `);
    expect(out).toEqual({ shrunk: true, counts: [5e5, 5e5, 5e5, 5e5] });
  }, 120_000);

  it("the trainer's write-back: a parameter array transferred mid-epoch rejects and writes nothing", async () => {
    const out = await expectClean(`
      import { native } from 'NATIVE';
      import { Trainer } from 'NCOD';
      const widths = [32, 64, 16], classes = 4, rows = 60_000;
      const sizes = new Trainer({ layers: widths, classes, projector: 'none' }).state().params.map((p) => p.length);
      const make = (fill) => sizes.map((s) => new Float32Array(s).fill(fill));
      const params = make(0.01), m = make(0), v = make(0);
      const x = Float32Array.from({ length: rows * 32 }, (_, i) => ((i * 7919) % 101) / 101);
      const y = Int32Array.from({ length: rows }, (_, i) => i % classes);
      const order = Int32Array.from({ length: rows }, (_, i) => i);
      const options = { batch: 32, alpha: 0, labelSmoothing: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0 };
      let moved = false;
      let result = 'resolved';
      try {
        await native().trainEpoch({ config: { widths, classes, projectorHidden: 0 }, params, m, v, x, y, rows, order, epoch: options, backend: 'cpu',
          onProgress: () => { if (!moved) { moved = true; structuredClone(params[2].buffer, { transfer: [params[2].buffer] }); globalThis.gc(); } } });
      } catch (e) { result = e.code; if (result !== 'ERR_INVALID_ARGUMENT') console.error(e); }
      // All or nothing: the arrays still attached were not written either.
      console.log(JSON.stringify({ moved, result, untouched: params[0][0] === Math.fround(0.01) && m[0][0] === 0 }));
    `, { nodeArgs: ['--expose-gc'] });
    expect(out).toEqual({ moved: true, result: 'ERR_INVALID_ARGUMENT', untouched: true });
  }, 120_000);

  it('a getter that calls another binding while arguments are parsed does not take the outer call\'s copies', async () => {
    const out = await expectClean(`
      import { native } from 'NATIVE';
      import { Trainer } from 'NCOD';
      const widths = [64, 32], classes = 4, rows = 200_000;
      const sizes = new Trainer({ layers: widths, classes, projector: 'none' }).state().params.map((p) => p.length);
      const make = (fill) => sizes.map((s) => new Float32Array(s).fill(fill));
      const x = Float32Array.from({ length: rows * 64 }, (_, i) => ((i * 7919) % 101) / 101);
      const y = Int32Array.from({ length: rows }, (_, i) => i % classes);
      const order = Int32Array.from({ length: rows }, (_, i) => i);
      let inner;
      const options = { alpha: 0, labelSmoothing: 0, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0,
        // Read after x, y and order were copied: the inner call settles first and must free only its own copies.
        get batch() { inner = native().classStats({ features: new Float32Array(8).fill(1), labels: new Int32Array([0, 1, 0, 1]), rows: 4, dim: 2, numClasses: 2, withScatter: false, allowEmptyClasses: false, backend: 'cpu' }); return 256; } };
      const epoch = native().trainEpoch({ config: { widths, classes, projectorHidden: 0 }, params: make(0.01), m: make(0), v: make(0), x, y, rows, order, epoch: options, backend: 'cpu' });
      const counts = Array.from((await inner).counts);
      globalThis.gc();
      const filler = []; for (let k = 0; k < 8; k++) filler.push(new Float32Array(rows * 16).fill(1e30));
      const r = await epoch;
      console.log(JSON.stringify({ counts, finite: Number.isFinite(r.loss), steps: r.step }));
    `, { nodeArgs: ['--expose-gc'] });
    expect(out).toEqual({ counts: [2, 2], finite: true, steps: Math.ceil(200_000 / 256) });
  }, 120_000);

  it('a cancel flag must be on a SharedArrayBuffer (the worker polls it; an ArrayBuffer could be detached)', async () => {
    const out = await expectClean(`
      import { native } from 'NATIVE';
      let code = 'none';
      let message = '';
      try { native().classStats({ features: new Float32Array(4), labels: new Int32Array(2), rows: 2, dim: 2, numClasses: 2, withScatter: false, allowEmptyClasses: false, backend: 'cpu', cancelFlag: new Int32Array(1) }); }
      catch (e) { code = e.code; message = e.message; }
      console.log(JSON.stringify({ code, message }));
    `);
    expect(out).toEqual({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('options.cancelFlag: expected an Int32Array on a SharedArrayBuffer') });
  });
});

describe('a worker thread terminated with calls in flight (crash 3)', () => {
  it('the process survives, and the main thread keeps working', async () => {
    const out = await expectClean(`
      import { Worker } from 'node:worker_threads';
      import { classStats } from 'NCOD';
      // The worker loads the addon itself (CommonJS, no TypeScript) and starts calls it never waits for.
      const addon = ${JSON.stringify(path.resolve('build/Release/ncod.node'))};
      const code = \`
        const { parentPort } = require('node:worker_threads');
        const b = require(\${JSON.stringify(addon)});
        const n = 1_000_000, d = 16;
        const x = new Float32Array(n * d).fill(0.5);
        const y = Int32Array.from({ length: n }, (_, i) => i % 4);
        for (let k = 0; k < 4; k++) {
          const common = { labels: y, rows: n, dim: d, numClasses: 4, backend: 'cpu', onProgress: () => {} };
          b.classStats({ ...common, features: x, withScatter: true, allowEmptyClasses: false }).catch(() => {});
          b.ncMetrics({ ...common, features: x, weightedGlobalMean: false }).catch(() => {});
          try { b.classStats({ ...common, features: new Float32Array(3), withScatter: true, allowEmptyClasses: false }); } catch {}
        }
        parentPort.postMessage('started');
      \`;
      for (let round = 0; round < 8; round++) {
        const w = new Worker(code, { eval: true });
        await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        await new Promise((r) => setTimeout(r, 15 * round));
        await w.terminate();
      }
      const r = await classStats(new Float32Array(8).fill(1), new Int32Array([0, 1, 0, 1]), { numClasses: 2 });
      console.log(JSON.stringify({ counts: Array.from(r.counts) }));
    `);
    expect(out).toEqual({ counts: [2, 2] });
  }, 120_000);
});

describe('threads (crash 4)', () => {
  it('setThreads refuses counts above 4 × the hardware threads with ERR_INVALID_ARGUMENT', async () => {
    const out = await expectClean(`
      import os from 'node:os';
      import { setThreads } from 'NCOD';
      const codes = [];
      for (const t of [256, 100_000, 2 ** 31]) { try { setThreads(t); codes.push('accepted ' + t); } catch (e) { codes.push(e.code); } }
      const max = Math.max(4, 4 * os.availableParallelism());
      setThreads(max); setThreads(1);
      console.log(JSON.stringify({ codes: codes.slice(0, 1).concat(codes.slice(1)), tooMany: 256 > max }));
    `);
    if (out.tooMany) expect(out.codes).toEqual(['ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT']);
    else expect((out.codes as string[]).slice(1)).toEqual(['ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT']);
  });

  it('threads the system cannot start give ERR_OUT_OF_MEMORY, not an abort in libgomp', async () => {
    // 256 MiB stacks (ulimit -s) in a 6 GiB address space: Node and a team of 8 fit. Then the address space is
    // eaten, 64 MiB at a time, until setThreads(8) is refused: the count stays 8, but the system cannot start 8
    // threads any more. Before each region checked, libgomp printed "Thread creation failed" and ended the process
    // at the next parallel region (on CI a team that fit at setThreads did not once libuv's pool had started).
    const r = await runChild(`
      const b = require('ADDON');
      const rows = 1 << 18;
      const common = { features: new Float32Array(rows * 16).fill(1), labels: Int32Array.from({ length: rows }, (_, i) => i % 2), rows, dim: 16, numClasses: 2, withScatter: true, allowEmptyClasses: false, backend: 'cpu' };
      (async () => {
        b.setThreads(8);
        // A call that starts libuv's thread pool (4 more 256 MiB stacks) before the address space is measured out.
        await b.classStats({ ...common, rows: 4, features: common.features.subarray(0, 64), labels: common.labels.subarray(0, 4) });
        const eaten = [];
        let refusal = null;
        for (let i = 0; i < 200 && !refusal; i++) {
          eaten.push(new ArrayBuffer(64 << 20));
          try { b.setThreads(8); } catch (e) { refusal = { code: e.code, message: e.message }; }
        }
        const before = b.blasInfo().reducedTeams;
        const s = await b.classStats(common);
        console.log(JSON.stringify({ refusal, counts: Array.from(s.counts), reduced: b.blasInfo().reducedTeams - before }));
      })();
    `, { commonjs: true, shellPrefix: 'ulimit -s 262144 && ulimit -v 6291456' });
    expect(r.signal, describeChild(r)).toBeNull();
    expect(r.code, describeChild(r)).toBe(0);
    const out = lastJson(r) as { refusal: { code: string; message: string }; counts: number[]; reduced: number };
    expect(out.refusal.code).toBe('ERR_OUT_OF_MEMORY');
    expect(out.refusal.message).toMatch(/expected 8 threads that the system can start, got [1-7] that started/);
    // The regions ran with the threads that started, and said so.
    expect(out.counts).toEqual([131072, 131072]);
    expect(out.reduced).toBeGreaterThan(0);
  }, 60_000);
});

describe('found by the fuzz suite', () => {
  it('a KNN bank refuses a NaN (a NaN bank row read past the k-th candidate: SIGSEGV)', async () => {
    const out = await expectClean(`
      import { native } from 'NATIVE';
      const codes = [];
      for (const bank of [Float32Array.of(NaN, 0.5), Float32Array.of(NaN, NaN), Float32Array.of(0.5, Infinity)]) {
        const raw = new (native().KnnBank)({ dim: 1 });
        try { await raw.append({ features: bank, rows: 2 }); codes.push('appended'); }
        catch (e) { codes.push(e.code); }
        try { await raw.score({ features: Float32Array.of(0.3, -0.7), rows: 2, k: 1 }); codes.push('resolved'); }
        catch (e) { codes.push(e.code); }
      }
      console.log(JSON.stringify({ codes }));
    `);
    // Refused whole: the bank stays empty, so k = 1 exceeds its size.
    expect(out).toEqual({ codes: ['ERR_NOT_FINITE', 'ERR_INVALID_ARGUMENT', 'ERR_NOT_FINITE', 'ERR_INVALID_ARGUMENT', 'ERR_NOT_FINITE', 'ERR_INVALID_ARGUMENT'] });
  });
});
