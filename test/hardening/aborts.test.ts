// AbortSignal on every long call (issue #15 item 8): KNN scoring over a large bank aborts inside the bank loop, and
// NcAccumulator.finalize, Knn.fit, the loss kernels and the probe's scoring reject with ERR_ABORTED when aborted
// before or while they run. Plus the accumulator's async and scatter-free state/merge variants and their checks.
import { describe, expect, it } from 'vitest';

import { detectors, LinearProbe, NcAccumulator } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { crossEntropyLs, etfProjector, nnEntropy } from '../../lib/train/kernels.js';
import { clusters } from '../helpers/random.js';

// Uniform in [-0.5, 0.5): fast to make in bulk (a linear congruential generator).
function uniform(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const aborted = { code: 'ERR_ABORTED' };

// Occupies every libuv pool thread with a KNN score until the returned release() aborts them (promptly: they check per
// bank tile). Work started meanwhile is queued behind them, so an abort right after the call is seen by the native
// flag deterministically, whatever the size of the work.
async function busyPool(): Promise<() => Promise<void>> {
  const d = 64;
  const knn = await detectors.knn({ k: 4 }).fit({ features: uniform(20_000 * d, 11), dim: d });
  const queries = uniform(4000 * d, 12);
  const controller = new AbortController();
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const blockers = Array.from({ length: threads }, () => knn.score(queries, { signal: controller.signal }).catch(() => undefined));
  return async () => {
    controller.abort();
    await Promise.all(blockers);
  };
}

// Runs `start` twice: once with a signal aborted beforehand (refused in TS), once aborting right after the call
// returned, the work queued in native code (the flag stops it). Both must reject with ERR_ABORTED.
async function expectAbortable(start: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const before = new AbortController();
  before.abort();
  await expect(start(before.signal)).rejects.toMatchObject(aborted);
  const release = await busyPool();
  const during = new AbortController();
  const promise = start(during.signal);
  promise.catch(() => undefined); // asserted below, after the pool is free
  during.abort();
  await release();
  await expect(promise).rejects.toMatchObject(aborted);
}

describe('KNN scoring over a large bank', () => {
  it('stops inside the bank loop: one query chunk, aborted after 50 ms, rejects well before it would finish', async () => {
    const d = 128;
    const bankRows = 100_000;
    const knn = await detectors.knn({ k: 10 }).fit({ features: uniform(bankRows * d, 1), dim: d });
    // The bank loop's speed depends on the CPU and SIMD level (2000 queries: ~70 ms with AVX512-BF16, ~280 ms at avx2 on this
    // 2-core Zen 5), so the queries double until a whole score takes over 300 ms; 32 000 rows are 16 MB, still one
    // 32 MiB query chunk, so only the bank loop can see the flag.
    let queries = uniform(2000 * d, 2);
    let full = 0;
    for (;;) {
      const t = performance.now();
      await knn.score(queries);
      full = performance.now() - t;
      if (full > 300 || queries.length >= 32_000 * d) break;
      queries = uniform(2 * queries.length, 2);
    }
    const controller = new AbortController();
    const t = performance.now();
    const promise = knn.score(queries, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(promise).rejects.toMatchObject(aborted);
    const abortedAfter = performance.now() - t;
    expect(full).toBeGreaterThan(300); // else the bound below says nothing
    expect(abortedAfter).toBeLessThan(0.4 * full);
  }, 60_000);
});

describe('AbortSignal on the remaining long calls', () => {
  const dim = 16;
  const C = 3;
  const data = clusters(600, dim, C, 5);

  it('NcAccumulator.finalize', async () => {
    const acc = new NcAccumulator({ dim, numClasses: C });
    await acc.add(data.features, data.labels);
    await expectAbortable((signal) => acc.finalize({ signal }));
    expect((await acc.finalize()).n).toBe(600); // the state is untouched
  });

  it('Knn.fit', async () => {
    await expectAbortable((signal) => detectors.knn({ k: 5 }).fit({ features: data.features, dim }, { signal }));
  });

  it('crossEntropyLs, nnEntropy, etfProjector', async () => {
    const logits = uniform(600 * C, 3);
    await expectAbortable((signal) => crossEntropyLs(logits, data.labels, { classes: C, signal }));
    await expectAbortable((signal) => nnEntropy(data.features, { dim, signal }));
    await expectAbortable((signal) => etfProjector(data.features, { dim, hiddenWidth: 32, dz: data.features, signal }));
  });

  it("the probe's scoring: logits, energy, accuracy", async () => {
    const probe = await LinearProbe.fit({ features: data.features, labels: data.labels, numClasses: C, epochs: 1 });
    await expectAbortable((signal) => probe.logits(data.features, { signal }));
    await expectAbortable((signal) => probe.energy(data.features, 1, { signal }));
    await expectAbortable((signal) => probe.energy(data.features, { temperature: 2, signal }));
    await expectAbortable((signal) => probe.accuracy(data.features, data.labels, { signal }));
    // The options form gives the same scores as the positional temperature.
    expect(await probe.energy(data.features, { temperature: 2 })).toEqual(await probe.energy(data.features, 2));
  });
});

describe('NcAccumulator: async and scatter-free variants', () => {
  const dim = 12;
  const C = 4;
  const a = clusters(300, dim, C, 7);
  const b = clusters(200, dim, C, 8);

  async function filled(x: { features: Float32Array; labels: Int32Array }): Promise<NcAccumulator> {
    const acc = new NcAccumulator({ dim, numClasses: C });
    await acc.add(x.features, x.labels);
    return acc;
  }

  it('mergeAsync equals merge; stateAsync equals state; stateWithoutScatter is state less the scatter', async () => {
    const [sync, async_, other] = [await filled(a), await filled(a), await filled(b)];
    sync.merge(other);
    await async_.mergeAsync(other);
    expect(await async_.stateAsync()).toEqual(sync.state());
    const { scatter, ...rest } = sync.state();
    expect(scatter.length).toBe(dim * dim);
    expect(sync.stateWithoutScatter()).toEqual(rest);
  });

  it('refuses itself and non-accumulators, in TS and in C++', async () => {
    const acc = await filled(a);
    await expect(acc.mergeAsync(acc)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('expected another accumulator, got itself') });
    await expect(acc.mergeAsync({} as NcAccumulator)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const raw = new (native().NcAccumulator)({ dim, numClasses: C, backend: 'cpu' });
    expect(() => raw.merge(raw)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('got itself') }));
    expect(() => raw.mergeAsync('x' as never)).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'mergeAsync: expected an NcAccumulator, got a string' }),
    );
    expect(() => (raw.state as (...args: unknown[]) => unknown)(true, 1)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => raw.state('yes' as never)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(raw.state(false).scatter.length).toBe(0);
    const notShared = new Int32Array(1);
    expect(() => raw.finalize({ weightedGlobalMean: false, cancelFlag: notShared })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('the raw kernels check their cancel flag argument', () => {
    const flag = new Int32Array(1); // on an ArrayBuffer: refused
    const b = native();
    expect(() => new b.KnnBank({ dim: 2 }).append({ features: new Float32Array(4), rows: 2, cancelFlag: flag })).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => b.nnEntropy({ features: new Float32Array(4), rows: 2, dim: 2, scale: 1, cancelFlag: flag })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => b.crossEntropyLs({ logits: new Float32Array(4), labels: Int32Array.of(0, 1), rows: 2, classes: 2, smoothing: 0.1, cancelFlag: flag })).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => b.etfProjector({ features: new Float32Array(4), rows: 2, dim: 2, hiddenWidth: 2, cancelFlag: 'x' as never })).toThrowError(expect.objectContaining({ code: 'ERR_DTYPE' }));
  });
});
