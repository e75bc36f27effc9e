// The micro-batcher alone: coalescing up to max rows or max delay, results split back in order, the bounded queue,
// aborts that drop queued rows, and a failing batch rejecting only its own requests.
import { describe, expect, it } from 'vitest';

import { NcodError } from '../../lib/errors.js';
import { Batcher } from '../../lib/serve/batcher.js';
import type { BatchResult } from '../../lib/serve/types.js';

const dim = 2;

function recorder(delayMs = 5) {
  const batches: number[][] = [];
  const run = async (rows: Float32Array): Promise<BatchResult> => {
    batches.push(Array.from(rows));
    await new Promise((r) => setTimeout(r, delayMs));
    return { score: Float64Array.from({ length: rows.length / dim }, (_, i) => rows[i * dim]) };
  };
  return { batches, run };
}

const req = (first: number, n = 1) => Float32Array.from({ length: n * dim }, (_, k) => (k % dim === 0 ? first + k / dim : 0));

describe('Batcher', () => {
  it('coalesces concurrent requests into one call and splits the results back', async () => {
    const { batches, run } = recorder();
    const b = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 5, maxQueueRows: 1000 });
    const results = await Promise.all([b.submit(req(10, 2), 2), b.submit(req(20, 1), 1), b.submit(req(30, 3), 3)]);
    expect(batches.length).toBe(1);
    expect(results.map((r) => Array.from(r.score))).toEqual([[10, 11], [20], [30, 31, 32]]);
  });

  it('never exceeds maxBatchRows except for a single larger request', async () => {
    const { batches, run } = recorder();
    const b = new Batcher(run, { dim, maxBatchRows: 4, maxDelayMs: 1, maxQueueRows: 1000 });
    await Promise.all([b.submit(req(0, 3), 3), b.submit(req(0, 2), 2), b.submit(req(0, 6), 6), b.submit(req(0, 1), 1)]);
    expect(batches.map((x) => x.length / dim)).toEqual([3, 2, 6, 1]);
  });

  it('queues newcomers while a batch runs, and runs them together next', async () => {
    const { batches, run } = recorder(30);
    const b = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 1000 });
    const first = b.submit(req(0), 1);
    await new Promise((r) => setTimeout(r, 10)); // the first batch is running now
    const rest = [1, 2, 3, 4].map((k) => b.submit(req(k), 1));
    await Promise.all([first, ...rest]);
    expect(batches.map((x) => x.length / dim)).toEqual([1, 4]);
  });

  it('answers ERR_UNAVAILABLE when the queue is full and ERR_TOO_LARGE for a request beyond it', async () => {
    const { run } = recorder(20);
    const b = new Batcher(run, { dim, maxBatchRows: 2, maxDelayMs: 0, maxQueueRows: 4 });
    const accepted = [b.submit(req(0, 2), 2), b.submit(req(0, 2), 2)];
    const rejected = b.submit(req(0, 1), 1);
    await expect(rejected).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    await expect(b.submit(req(0, 5), 5)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    await Promise.all(accepted);
    expect(b.queuedRows).toBe(0);
  });

  it('drops the rows of a request aborted before its batch starts', async () => {
    const { batches, run } = recorder(20);
    const b = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 1000 });
    const first = b.submit(req(0), 1);
    await new Promise((r) => setTimeout(r, 5));
    const controller = new AbortController();
    const leaving = b.submit(req(100, 3), 3, controller.signal);
    const staying = b.submit(req(200), 1);
    expect(b.queuedRows).toBe(4);
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(b.queuedRows).toBe(1);
    await Promise.all([first, staying]);
    expect(batches).toEqual([[0, 0], [200, 0]]);
  });

  it('rejects with the abort reason at once, even while its batch runs', async () => {
    const { run } = recorder(50);
    const b = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 1000 });
    const controller = new AbortController();
    const p = b.submit(req(0), 1, controller.signal);
    await new Promise((r) => setTimeout(r, 10));
    const start = performance.now();
    controller.abort(new NcodError('ERR_TIMEOUT', 'too slow'));
    await expect(p).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(performance.now() - start).toBeLessThan(30);
  });

  it('enqueue().cancel: queued rows leave with the reason; once settled, cancel changes nothing', async () => {
    const { batches, run } = recorder(20);
    const b = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 1000 });
    const first = b.enqueue(req(0), 1);
    await new Promise((r) => setTimeout(r, 5));
    const leaving = b.enqueue(req(100, 2), 2);
    const staying = b.enqueue(req(200), 1);
    expect(b.queuedRows).toBe(3);
    leaving.cancel(new NcodError('ERR_TIMEOUT', 'too slow'));
    await expect(leaving.result).rejects.toMatchObject({ code: 'ERR_TIMEOUT', message: 'too slow' });
    expect(b.queuedRows).toBe(1);
    expect(Array.from((await first.result).score)).toEqual([0]);
    first.cancel(new NcodError('ERR_ABORTED', 'late'));
    expect(Array.from((await staying.result).score)).toEqual([200]);
    expect(batches).toEqual([[0, 0], [200, 0]]);
    const full = new Batcher(run, { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 2 }).enqueue(req(0, 3), 3);
    await expect(full.result).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
  });

  it('a failing batch rejects its requests, and the next batch runs', async () => {
    let calls = 0;
    const b = new Batcher(
      async (rows) => {
        calls++;
        if (calls === 1) throw new NcodError('ERR_BACKEND', 'boom');
        return { score: new Float64Array(rows.length / dim) };
      },
      { dim, maxBatchRows: 100, maxDelayMs: 0, maxQueueRows: 1000 },
    );
    await expect(b.submit(req(0), 1)).rejects.toMatchObject({ code: 'ERR_BACKEND' });
    expect((await b.submit(req(0), 1)).score.length).toBe(1);
  });
});
