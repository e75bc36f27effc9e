// `ncod serve` as commander parses it; the work (fastify, prom-client, the native addon) is in ../serve.ts, loaded only
// when the command runs.
import { InvalidArgumentError, Option, type Command } from '../commander.js';

import { collect, parseInteger } from '../parse.js';
import type { ServeCliOptions } from '../serve.js';

// The metric names, written here rather than imported from lib/serve/metrics.ts so that --help loads no prom-client;
// test/serve/cli.test.ts checks the two lists agree.
export const METRIC_NAMES = [
  'ncod_serve_requests_total{model,status}     inference requests answered (status 499: the client left)',
  'ncod_serve_request_duration_seconds{model}  latency histogram, body read to answer sent',
  'ncod_serve_queue_wait_seconds{model}        time waiting in the batch queue (histogram)',
  'ncod_serve_batch_rows{model}                rows per score/decide call (histogram)',
  'ncod_serve_batch_requests{model}            requests coalesced per call (histogram)',
  'ncod_serve_rows_total{model}                rows scored',
  'ncod_serve_queue_rows{model}                rows waiting now',
  'ncod_serve_decisions_total{model}           calibrated decisions made',
  'ncod_serve_ood_decisions_total{model}       of which flagged OOD (sum over replicas, divide: the fleet rate)',
  'ncod_serve_ood_rate{model}                  OOD fraction of the last --drift-window decisions',
  'ncod_serve_window_decisions{model}          decisions in that window',
  'ncod_serve_expected_ood_rate{model}         the calibrated rate, 1 - tpr',
  'ncod_serve_drift_p_value{model}             P(X >= window OOD count), X ~ Binomial(window, 1 - tpr): alarm when small',
];

const EXAMPLE = `
Examples:
  $ ncod serve --detector det.ncod
  $ ncod serve --detector maha=maha.ncod --detector knn=knn.ncod --host 0.0.0.0 --port 8000 --max-batch-rows 2048

Open Inference Protocol v2 (KServe v2 / Triton HTTP), JSON and the binary tensor data extension:
  GET  /v2/health/live   /v2/health/ready   /v2   /v2/models/{name}   /v2/models/{name}/ready
  POST /v2/models/{name}/infer   input "features" (or "logits") [B, d] FP32, FP16 or FP64;
       outputs ood_score FP64 [B] (higher = more in-distribution), with a calibration is_ood BOOL [B], p_value FP64 [B]
  GET  /metrics          Prometheus text format
A model's name is its file's base name (det.ncod → det) unless given as name=path.
Errors answer {"error": "ERR_CODE: message"}: 400 bad request, 404 unknown model, 413 body too large,
503 (with Retry-After) queue full, shutting down, or --request-timeout-ms passed.
SIGTERM / SIGINT: readiness fails (503), requests in flight finish, the process exits 0.

Metrics:
  ${METRIC_NAMES.join('\n  ')}
  plus Node's process metrics with the prefix ncod_.`;

/** "64MiB", "512k", "1000000" → bytes (k, m, g: binary multiples, as fastify's bodyLimit counts bytes). */
export function parseBytes(value: string): number {
  const m = /^\s*(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError('expected a size in bytes, like 1048576, 512k or 64MiB.');
  const unit = (m[2] ?? '').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive size.');
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve saved OOD detectors over HTTP (Open Inference Protocol v2) with micro-batching and Prometheus metrics')
    .requiredOption('--detector <[name=]file>', 'a saved detector (.ncod); repeat for several models', collect)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port, logged)', parseInteger, 8000)
    .option('--max-batch-rows <n>', 'rows per score call at most (a larger request runs alone)', parseInteger, 1024)
    .option('--max-delay-ms <ms>', 'how long a request waits for others to join its batch while the model is idle', parseInteger, 1)
    .option('--max-queue-rows <n>', 'rows waiting per model before new requests get 503 + Retry-After', parseInteger, 16384)
    .option('--body-limit <bytes>', 'largest request body (413 beyond), e.g. 64MiB', parseBytes, 64 * 2 ** 20)
    .option('--request-timeout-ms <ms>', 'a request unanswered this long gets 503 ERR_TIMEOUT; its rows leave the queue', parseInteger, 30_000)
    .option('--drain-delay-ms <ms>', 'on SIGTERM, how long readiness fails before the listener closes', parseInteger, 0)
    .option('--drift-window <n>', 'decisions in the sliding window of the OOD-rate and drift gauges', parseInteger, 1000)
    .option('--log-requests', 'also log every request (two lines each; off by default: it costs batch-1 throughput)', false)
    .addOption(new Option('--log-level <level>', 'JSON logs on stdout (pino)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addHelpText('after', EXAMPLE)
    .action(async (options: ServeCliOptions) => (await import('../serve.js')).runServe(options));
}
