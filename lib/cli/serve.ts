// `ncod serve`: loads the detectors, listens, and shuts down gracefully on SIGTERM / SIGINT (options:
// commands/serve.ts; the app: lib/serve/server.ts).
import path from 'node:path';

import { describe, fail, NcodError } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import { createServer } from '../serve/server.js';
import { drainAndClose, onShutdownSignals } from '../serve/shutdown.js';
import type { ServableDetector } from '../serve/types.js';

export interface ServeCliOptions {
  detector: string[];
  host: string;
  port: number;
  maxBatchRows: number;
  maxDelayMs: number;
  maxQueueRows: number;
  bodyLimit: number;
  requestTimeoutMs: number;
  drainDelayMs: number;
  driftWindow: number;
  logLevel: string;
  logRequests: boolean;
}

/** "name=path" or "path" (named by its base name without extension) for each --detector. */
export function modelSpecs(specs: string[]): { name: string; file: string }[] {
  const seen = new Set<string>();
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const file = eq > 0 ? spec.slice(eq + 1) : spec;
    const name = eq > 0 ? spec.slice(0, eq) : path.basename(file, path.extname(file));
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) fail('ERR_INVALID_ARGUMENT', '--detector name', 'letters, digits, _ . - (a URL path segment)', describe(name));
    if (seen.has(name)) fail('ERR_INVALID_ARGUMENT', '--detector', 'distinct model names (use name=file)', `${describe(name)} twice`);
    seen.add(name);
    return { name, file };
  });
}

async function loadDetector(file: string): Promise<ServableDetector> {
  return detectors.load(file); // ERR_FILE_FORMAT (with the reason) for a damaged or foreign file
}

export async function runServe(o: ServeCliOptions): Promise<void> {
  const models: Record<string, ServableDetector> = {};
  try {
    for (const { name, file } of modelSpecs(o.detector)) models[name] = await loadDetector(file);
  } catch (error) {
    for (const det of Object.values(models)) det.dispose();
    throw error;
  }
  const server = createServer({
    models,
    maxBatchRows: o.maxBatchRows,
    maxDelayMs: o.maxDelayMs,
    maxQueueRows: o.maxQueueRows,
    bodyLimit: o.bodyLimit,
    requestTimeoutMs: o.requestTimeoutMs,
    driftWindow: o.driftWindow,
    logger: { level: o.logLevel },
    logRequests: o.logRequests,
  });
  const log = server.app.log;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const removeHandlers = onShutdownSignals(
    (signal) => {
      log.info({ signal }, 'shutting down: readiness fails, requests in flight finish');
      drainAndClose(server, { drainDelayMs: o.drainDelayMs, timeoutMs: o.requestTimeoutMs + 5000 })
        .then((clean) => {
          if (!clean) {
            log.warn('requests still in flight after the timeout; exiting anyway');
            process.exitCode = 1;
          }
        }, (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exitCode = 1;
        })
        .finally(stopped);
    },
    (signal) => {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    },
  );
  try {
    const url = await server.listen({ host: o.host, port: o.port });
    log.info({ url, models: Object.fromEntries(Object.entries(models).map(([n, d]) => [n, { method: d.method, input: d.input, calibrated: !!d.calibration }])) }, 'ncod serve ready');
  } catch (error) {
    removeHandlers();
    for (const det of Object.values(models)) det.dispose();
    // toNcodError would call it a file-system refusal; say what failed: the address.
    const message = error instanceof Error ? error.message : String(error);
    throw new NcodError('ERR_IO', `--host ${o.host} --port ${o.port}: expected to listen there, got ${message}`, { cause: error });
  }
  await done;
  removeHandlers();
  for (const det of Object.values(models)) det.dispose();
  log.info('stopped');
}
