// The micro-batcher in front of one model: concurrent requests are coalesced into one score/decide call (one native
// call amortises the per-call cost and uses the BLAS/OpenMP threads on many rows), and each request gets its slice.
// One batch runs per model at a time: while it runs, newcomers queue and form the next batch. The queue is bounded
// in rows, so overload answers 503 at once instead of growing memory and latency without bound.
import { NcodError } from '../errors.js';
import { clientLeft } from './errors.js';
import type { BatchResult } from './types.js';

export interface BatcherOptions {
  dim: number;
  maxBatchRows: number;
  maxDelayMs: number;
  maxQueueRows: number;
}

export interface BatchObserver {
  /** A batch starts: its rows, how many requests it holds, and each request's wait in the queue (seconds). */
  onBatch(rows: number, requests: number, waits: number[]): void;
  /** A batch finished (successfully): its whole result, to feed the drift monitor. */
  onResult(result: BatchResult): void;
}

interface Item {
  rows: Float32Array;
  n: number;
  enqueued: number; // performance.now() in ms
  settled: boolean;
  resolve(result: BatchResult): void;
  reject(error: unknown): void;
}

/** A queued request: its result, and how to withdraw it (rows not yet in a batch leave the queue). */
export interface Pending {
  readonly result: Promise<BatchResult>;
  /** Rejects the result with `reason` unless it has settled; rows already being scored are scored and dropped. */
  cancel(reason: NcodError): void;
}

function slice(result: BatchResult, start: number, end: number): BatchResult {
  return {
    score: result.score.subarray(start, end),
    pValue: result.pValue?.subarray(start, end),
    isOOD: result.isOOD?.subarray(start, end),
  };
}

export class Batcher {
  readonly #run: (rows: Float32Array) => Promise<BatchResult>;
  readonly #options: BatcherOptions;
  readonly #observer: BatchObserver | undefined;
  #queue: Item[] = [];
  #queuedRows = 0;
  #running = false;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(run: (rows: Float32Array) => Promise<BatchResult>, options: BatcherOptions, observer?: BatchObserver) {
    this.#run = run;
    this.#options = options;
    this.#observer = observer;
  }

  /** Rows waiting for a batch (not the one running). */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  get busy(): boolean {
    return this.#running || this.#queue.length > 0;
  }

  /**
   * The result for `n` rows (n×dim float32). Rejects at once with ERR_UNAVAILABLE when the queue has no room, and with
   * the signal's reason (an NcodError) or ERR_ABORTED when `signal` aborts: rows not yet in a batch leave the queue;
   * rows already being scored are scored, and their result is dropped.
   */
  submit(rows: Float32Array, n: number, signal?: AbortSignal): Promise<BatchResult> {
    if (signal?.aborted) {
      const refused = this.#refusal(n);
      return Promise.reject(refused ?? reasonOf(signal));
    }
    const pending = this.enqueue(rows, n);
    if (signal) {
      const onAbort = () => pending.cancel(reasonOf(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      const off = () => signal.removeEventListener('abort', onAbort);
      pending.result.then(off, off);
    }
    return pending.result;
  }

  /**
   * submit() without an AbortSignal: the caller cancels with a reason instead. The server uses it, since an
   * AbortController per request costs more than the rest of a batch-1 request's bookkeeping.
   */
  enqueue(rows: Float32Array, n: number): Pending {
    const refused = this.#refusal(n);
    if (refused) return { result: Promise.reject(refused), cancel: () => {} };
    let item!: Item;
    const result = new Promise<BatchResult>((resolve, reject) => {
      item = { rows, n, enqueued: performance.now(), settled: false, resolve, reject };
    });
    this.#queue.push(item);
    this.#queuedRows += n;
    this.#schedule();
    return {
      result,
      cancel: (reason) => {
        if (item.settled) return;
        const k = this.#queue.indexOf(item);
        if (k >= 0) {
          this.#queue.splice(k, 1);
          this.#queuedRows -= item.n;
        }
        settle(item, () => item.reject(reason));
      },
    };
  }

  /** Why `n` more rows cannot queue now, or undefined when they can. */
  #refusal(n: number): NcodError | undefined {
    const { maxQueueRows } = this.#options;
    if (n > maxQueueRows) return new NcodError('ERR_TOO_LARGE', `request rows: expected at most ${maxQueueRows} (--max-queue-rows), got ${n}`);
    if (this.#queuedRows + n > maxQueueRows) {
      return new NcodError('ERR_UNAVAILABLE', `queue: expected room for ${n} rows, got ${this.#queuedRows} of ${maxQueueRows} rows waiting`);
    }
    return undefined;
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined || this.#queue.length === 0) return;
    const { maxBatchRows, maxDelayMs } = this.#options;
    const waited = performance.now() - this.#queue[0].enqueued;
    if (this.#queuedRows >= maxBatchRows || waited >= maxDelayMs) {
      // With no delay to wait, still let the requests already read in this turn of the event loop join.
      if (maxDelayMs === 0) this.#timer = setImmediate(() => this.#fire());
      else this.#dispatch();
      return;
    }
    this.#timer = setTimeout(() => this.#fire(), maxDelayMs - waited);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#dispatch();
  }

  #dispatch(): void {
    if (this.#running || this.#queue.length === 0) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    const { dim, maxBatchRows } = this.#options;
    const items: Item[] = [];
    let rows = 0;
    // Whole requests in arrival order; the first always goes, even when it alone exceeds maxBatchRows.
    while (this.#queue.length > 0 && (items.length === 0 || rows + this.#queue[0].n <= maxBatchRows)) {
      const item = this.#queue.shift()!;
      items.push(item);
      rows += item.n;
    }
    this.#queuedRows -= rows;
    const now = performance.now();
    this.#observer?.onBatch(rows, items.length, items.map((it) => (now - it.enqueued) / 1000));
    let batch: Float32Array;
    if (items.length === 1) batch = items[0].rows;
    else {
      batch = new Float32Array(rows * dim);
      let offset = 0;
      for (const item of items) {
        batch.set(item.rows, offset);
        offset += item.rows.length;
      }
    }
    this.#running = true;
    // A synchronous throw from run() (bad input that slipped through) must reject, not escape.
    Promise.resolve()
      .then(() => this.#run(batch))
      .then(
        (result) => {
          this.#observer?.onResult(result);
          let start = 0;
          for (const item of items) {
            const part = slice(result, start, start + item.n);
            start += item.n;
            settle(item, () => item.resolve(part));
          }
        },
        (error: unknown) => {
          for (const item of items) settle(item, () => item.reject(error));
        },
      )
      .finally(() => {
        this.#running = false;
        this.#schedule();
      });
  }
}

function settle(item: Item, action: () => void): void {
  if (item.settled) return;
  item.settled = true;
  action();
}

function reasonOf(signal: AbortSignal): NcodError {
  return signal.reason instanceof NcodError ? signal.reason : clientLeft();
}
