// Prometheus metrics of one server, in its own prom-client Registry (never the global one: two servers in a process,
// or tests, must not share counters). Counters are per replica and sum across replicas in Prometheus; the window
// gauges are per replica by nature (a rule can recompute the fleet's rate from the two decision counters).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { binomialUpperTail, DecisionWindow } from './drift.js';
import type { BatchObserver } from './batcher.js';
import type { BatchResult, ServableDetector } from './types.js';

/** The metric names, also listed in `ncod serve --help`. */
export const METRIC_HELP = {
  ncod_serve_requests_total: 'inference requests answered, by model and HTTP status (499: the client went away)',
  ncod_serve_request_duration_seconds: 'inference request latency, from the first byte read to the answer sent, by model',
  ncod_serve_queue_wait_seconds: 'time a request waited in the batch queue, by model',
  ncod_serve_batch_rows: 'rows per score/decide call, by model',
  ncod_serve_batch_requests: 'requests coalesced into one score/decide call, by model',
  ncod_serve_rows_total: 'rows scored, by model',
  ncod_serve_queue_rows: 'rows waiting for a batch now, by model',
  ncod_serve_decisions_total: 'calibrated decisions made, by model',
  ncod_serve_ood_decisions_total: 'decisions that flagged the row as OOD, by model',
  ncod_serve_ood_rate: 'OOD fraction of the last --drift-window decisions, by model',
  ncod_serve_window_decisions: 'decisions in that window (less than --drift-window until it fills), by model',
  ncod_serve_expected_ood_rate: 'the calibrated OOD rate on in-distribution traffic, 1 − tpr, by model',
  ncod_serve_drift_p_value: "drift alarm: P(X ≥ window's OOD count), X ~ Binomial(window, 1 − tpr); small = more OOD than calibrated",
} as const;

const ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const REQUEST_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const SECOND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServeMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'model' | 'status'>;
  readonly #duration: Histogram<'model'>;
  readonly #queueWait: Histogram<'model'>;
  readonly #batchRows: Histogram<'model'>;
  readonly #batchRequests: Histogram<'model'>;
  readonly #rows: Counter<'model'>;
  readonly #decisions: Counter<'model'>;
  readonly #oodDecisions: Counter<'model'>;
  readonly #windows = new Map<string, DecisionWindow>();

  constructor(models: Record<string, ServableDetector>, queuedRows: (model: string) => number, windowSize: number) {
    const registers = [this.registry];
    const h = METRIC_HELP;
    this.#requests = new Counter({ name: 'ncod_serve_requests_total', help: h.ncod_serve_requests_total, labelNames: ['model', 'status'], registers });
    this.#duration = new Histogram({ name: 'ncod_serve_request_duration_seconds', help: h.ncod_serve_request_duration_seconds, labelNames: ['model'], buckets: SECOND_BUCKETS, registers });
    this.#queueWait = new Histogram({ name: 'ncod_serve_queue_wait_seconds', help: h.ncod_serve_queue_wait_seconds, labelNames: ['model'], buckets: SECOND_BUCKETS, registers });
    this.#batchRows = new Histogram({ name: 'ncod_serve_batch_rows', help: h.ncod_serve_batch_rows, labelNames: ['model'], buckets: ROW_BUCKETS, registers });
    this.#batchRequests = new Histogram({ name: 'ncod_serve_batch_requests', help: h.ncod_serve_batch_requests, labelNames: ['model'], buckets: REQUEST_BUCKETS, registers });
    this.#rows = new Counter({ name: 'ncod_serve_rows_total', help: h.ncod_serve_rows_total, labelNames: ['model'], registers });
    this.#decisions = new Counter({ name: 'ncod_serve_decisions_total', help: h.ncod_serve_decisions_total, labelNames: ['model'], registers });
    this.#oodDecisions = new Counter({ name: 'ncod_serve_ood_decisions_total', help: h.ncod_serve_ood_decisions_total, labelNames: ['model'], registers });
    const names = Object.keys(models);
    const calibrated = names.filter((name) => models[name].calibration !== undefined);
    for (const name of calibrated) this.#windows.set(name, new DecisionWindow(windowSize));
    // Zeros from the start, so rate() and sums see every model before its first request.
    for (const model of names) {
      this.#rows.inc({ model }, 0);
      if (this.#windows.has(model)) {
        this.#decisions.inc({ model }, 0);
        this.#oodDecisions.inc({ model }, 0);
      }
    }
    new Gauge({
      name: 'ncod_serve_queue_rows', help: h.ncod_serve_queue_rows, labelNames: ['model'], registers,
      collect() {
        for (const model of names) this.set({ model }, queuedRows(model));
      },
    });
    const windows = this.#windows;
    const expected = (model: string) => 1 - models[model].calibration!.tpr;
    new Gauge({
      name: 'ncod_serve_ood_rate', help: h.ncod_serve_ood_rate, labelNames: ['model'], registers,
      collect() {
        for (const [model, w] of windows) this.set({ model }, w.count === 0 ? 0 : w.oodCount / w.count);
      },
    });
    new Gauge({
      name: 'ncod_serve_window_decisions', help: h.ncod_serve_window_decisions, labelNames: ['model'], registers,
      collect() {
        for (const [model, w] of windows) this.set({ model }, w.count);
      },
    });
    new Gauge({
      name: 'ncod_serve_expected_ood_rate', help: h.ncod_serve_expected_ood_rate, labelNames: ['model'], registers,
      collect() {
        for (const model of windows.keys()) this.set({ model }, expected(model));
      },
    });
    new Gauge({
      name: 'ncod_serve_drift_p_value', help: h.ncod_serve_drift_p_value, labelNames: ['model'], registers,
      // Computed when scraped, not per batch: O(window) work, once per scrape.
      collect() {
        for (const [model, w] of windows) this.set({ model }, binomialUpperTail(w.oodCount, w.count, expected(model)));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ncod_' });
  }

  // Label children resolved once per model (and status): prom-client otherwise hashes the labels on every call.
  readonly #requestChildren = new Map<string, { duration: ReturnType<Histogram<'model'>['labels']>; byStatus: Map<number, ReturnType<Counter<'model' | 'status'>['labels']>> }>();

  request(model: string, status: number, seconds: number | undefined): void {
    let children = this.#requestChildren.get(model);
    if (!children) {
      children = { duration: this.#duration.labels({ model }), byStatus: new Map() };
      this.#requestChildren.set(model, children);
    }
    let counter = children.byStatus.get(status);
    if (!counter) {
      counter = this.#requests.labels({ model, status: String(status) });
      children.byStatus.set(status, counter);
    }
    counter.inc();
    if (seconds !== undefined) children.duration.observe(seconds);
  }

  /** The batcher's hooks for `model`. */
  observer(model: string): BatchObserver {
    const window = this.#windows.get(model);
    const [batchRows, batchRequests, queueWait] = [this.#batchRows, this.#batchRequests, this.#queueWait].map((h) => h.labels({ model }));
    const [rows, decisions, oodDecisions] = [this.#rows, this.#decisions, this.#oodDecisions].map((c) => c.labels({ model }));
    return {
      onBatch: (n, requests, waits) => {
        batchRows.observe(n);
        batchRequests.observe(requests);
        for (const w of waits) queueWait.observe(w);
      },
      onResult: (result: BatchResult) => {
        rows.inc(result.score.length);
        if (window && result.isOOD) {
          let ood = 0;
          for (const v of result.isOOD) ood += v ? 1 : 0;
          decisions.inc(result.isOOD.length);
          oodDecisions.inc(ood);
          window.push(result.isOOD);
        }
      },
    };
  }
}
