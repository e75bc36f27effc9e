// The fastify app of `ncod serve`: Open Inference Protocol v2 REST over the served detectors, one micro-batcher per
// model, Prometheus metrics, readiness tied to the models and to draining. A factory without a port, so tests can use
// `app.inject`; listening and signals belong to the CLI (lib/cli/serve.ts) and shutdown.ts.
import net from 'node:net';

import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import { describe, fail, NcodError } from '../errors.js';
import { version } from '../version.js';
import { checkInteger } from '../validate.js';
import { Batcher } from './batcher.js';
import { clientLeft, errorBody, statusOf, toServeError } from './errors.js';
import { ServeMetrics } from './metrics.js';
import { decodeInferRequest, encodeInferResponse, INPUT_TYPES, OUTPUT_TYPES, outputNames } from './oip-codec.js';
import type { BatchResult, ServableDetector, ServerOptions } from './types.js';

export interface NcodServer {
  readonly app: FastifyInstance;
  readonly metrics: ServeMetrics;
  /** True once drain() was called: readiness answers 503; requests are still served, with Connection: close. */
  readonly draining: boolean;
  /** Listens and returns the address, e.g. http://127.0.0.1:8000. */
  listen(options: { host?: string; port?: number }): Promise<string>;
  /** Fails readiness first, so load balancers stop sending; requests keep being served meanwhile. */
  drain(): void;
  /**
   * drain(), stops accepting connections, lets requests already on the wire arrive (`settleMs`, default 100), answers
   * any later ones 503 ERR_UNAVAILABLE, and resolves once every request received and every batch has finished.
   */
  close(options?: { settleMs?: number }): Promise<void>;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = '1'; // a loaded file is one version; the versions/{v} routes accept it so clients that name it work

interface Served {
  detector: ServableDetector;
  batcher: Batcher;
}

function runBatch(detector: ServableDetector): (rows: Float32Array) => Promise<BatchResult> {
  // A calibrated detector always decides, even when a request asks only for scores: the drift monitor then sees all
  // traffic, and decide's scores are score's.
  if (detector.calibration) return (rows) => detector.decide(rows);
  return async (rows) => ({ score: await detector.score(rows) });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function option(what: string, value: number | undefined, fallback: number, min: number): number {
  return checkInteger(what, value ?? fallback, min);
}

export function createServer(options: ServerOptions): NcodServer {
  const models = options?.models;
  if (typeof models !== 'object' || models === null || Object.keys(models).length === 0) {
    fail('ERR_INVALID_ARGUMENT', 'models', 'at least one model { name: detector }', describe(models));
  }
  for (const name of Object.keys(models)) {
    if (!MODEL_NAME.test(name)) fail('ERR_INVALID_ARGUMENT', 'model name', 'letters, digits, _ . - (a URL path segment)', describe(name));
  }
  const maxBatchRows = option('maxBatchRows', options.maxBatchRows, 1024, 1);
  const maxDelayMs = option('maxDelayMs', options.maxDelayMs, 1, 0);
  const maxQueueRows = option('maxQueueRows', options.maxQueueRows, 16384, 1);
  const bodyLimit = option('bodyLimit', options.bodyLimit, 64 * 2 ** 20, 1);
  const requestTimeoutMs = option('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1);
  const driftWindow = option('driftWindow', options.driftWindow, 1000, 1);
  const serverName = options.serverName ?? 'ncod';
  if (options.logRequests !== undefined && typeof options.logRequests !== 'boolean') {
    fail('ERR_INVALID_ARGUMENT', 'logRequests', 'a boolean', describe(options.logRequests));
  }

  const served = new Map<string, Served>();
  const metrics = new ServeMetrics(models, (name) => served.get(name)?.batcher.queuedRows ?? 0, driftWindow);
  for (const [name, detector] of Object.entries(models)) {
    const batcher = new Batcher(runBatch(detector), { dim: detector.input.dim, maxBatchRows, maxDelayMs, maxQueueRows }, metrics.observer(name));
    served.set(name, { detector, batcher });
  }
  let draining = false;
  let closing = false;
  let inflight = 0;

  const app = Fastify({
    logger: options.logger ?? false,
    // fastify's two log lines per request cost a batch-1 server about as much as the rest of the request; errors
    // (5xx) are still logged by the error handler below.
    logController: new LogController({ disableRequestLogging: options.logRequests !== true }),
    bodyLimit,
    // Node's own limit on receiving a whole request (slow clients); the answer's deadline is enforced below.
    requestTimeout: requestTimeoutMs,
    // Closing is handled below (close()), so that late requests get the protocol's error body and none is cut off.
    return503OnClosing: false,
    forceCloseConnections: false,
  });

  // One parser for every content type: the body is JSON, or JSON followed by binary tensors, which only the
  // Inference-Header-Content-Length header tells apart, so the codec parses it itself (and words its own errors).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const e = toServeError(error);
    const status = statusOf(e);
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    if (status === 503) reply.header('Retry-After', '1');
    return reply.code(status).type('application/json').send(JSON.stringify(errorBody(e)));
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new NcodError('ERR_NOT_FOUND', `${request.method} ${request.url}: expected an Open Inference Protocol v2 endpoint, got none there`);
    return reply.code(404).type('application/json').send(JSON.stringify(errorBody(e)));
  });

  // Hooks in callback style: an async hook costs a promise per request, which a batch-1 request notices.
  const finished = () => inflight--; // one function for every response, not a closure each
  app.addHook('onRequest', (_request, reply, done) => {
    inflight++;
    reply.raw.on('close', finished);
    if (closing) return done(new NcodError('ERR_UNAVAILABLE', 'server: expected to accept requests, got one shutting down'));
    done();
  });
  // While draining, answers close their connections, so keep-alive clients move to another replica.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('Connection', 'close');
    done(null, payload);
  });

  // Inference requests counted once each: answered (onResponse) or abandoned by the client (onRequestAbort). These
  // hooks belong to the infer routes only, so no other request pays for them.
  const counted = new WeakSet<FastifyRequest>();
  const modelLabel = (request: FastifyRequest) => {
    const name = (request.params as { name?: string } | undefined)?.name;
    return name !== undefined && served.has(name) ? name : '_unknown'; // bounded label values, whatever the URL
  };
  const inferHooks = {
    onResponse: (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (!counted.has(request)) {
        counted.add(request);
        metrics.request(modelLabel(request), reply.statusCode, reply.elapsedTime / 1000);
      }
      done();
    },
    onRequestAbort: (request: FastifyRequest, done: () => void) => {
      if (!counted.has(request)) {
        counted.add(request);
        metrics.request(modelLabel(request), 499, undefined);
      }
      done();
    },
  };

  const model = (request: FastifyRequest): Served & { name: string } => {
    const { name, version: v } = request.params as { name: string; version?: string };
    const found = served.get(name);
    if (!found) throw new NcodError('ERR_NOT_FOUND', `model: expected one of ${[...served.keys()].join(', ')}, got ${describe(name)}`);
    if (v !== undefined && v !== VERSION) throw new NcodError('ERR_NOT_FOUND', `model ${name} version: expected "${VERSION}", got ${describe(v)}`);
    return { name, ...found };
  };

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => reply.code(draining ? 503 : 200).send({ ready: !draining }));
  app.get('/v2', async () => ({ name: serverName, version, extensions: ['binary_tensor_data'] }));

  const metadata = async (request: FastifyRequest) => {
    const { name, detector } = model(request);
    const calibrated = detector.calibration !== undefined;
    return {
      name,
      versions: [VERSION],
      platform: 'ncod',
      inputs: [{ name: detector.input.name, datatype: 'FP32', shape: [-1, detector.input.dim] }],
      outputs: outputNames(calibrated).map((o) => ({ name: o, datatype: OUTPUT_TYPES[o], shape: [-1] })),
      // Not in the protocol's model metadata, so under parameters: what a client needs to interpret the outputs.
      parameters: {
        method: detector.method,
        accepted_input_datatypes: Object.keys(INPUT_TYPES),
        ...(detector.calibration && { calibration: { tpr: detector.calibration.tpr, threshold: detector.calibration.threshold, n: detector.calibration.n } }),
      },
    };
  };
  const ready = async (request: FastifyRequest, reply: FastifyReply) => {
    const { name } = model(request);
    return reply.code(draining ? 503 : 200).send({ name, ready: !draining });
  };
  const infer = async (request: FastifyRequest, reply: FastifyReply) => {
    const { name, detector, batcher } = model(request);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headerLength = request.headers['inference-header-content-length'];
    const decoded = decodeInferRequest(body, Array.isArray(headerLength) ? headerLength[0] : headerLength, {
      input: detector.input,
      calibrated: detector.calibration !== undefined,
    });
    // Two ways a request can end early, both withdrawing its rows: the client leaving, and the deadline.
    const pending = batcher.enqueue(decoded.rows, decoded.n);
    const onClose = () => {
      if (!reply.raw.writableEnded) pending.cancel(clientLeft());
    };
    reply.raw.once('close', onClose);
    const timer = setTimeout(
      () => pending.cancel(new NcodError('ERR_TIMEOUT', `request: expected an answer within ${requestTimeoutMs} ms, got none in time`)),
      Math.max(0, requestTimeoutMs - reply.elapsedTime),
    );
    try {
      const encoded = encodeInferResponse(name, decoded, await pending.result);
      if (encoded.headerLength !== undefined) reply.header('Inference-Header-Content-Length', String(encoded.headerLength));
      return reply.type(encoded.contentType).send(encoded.body);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  };
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, metadata);
    app.get(`${prefix}/ready`, ready);
    app.post(`${prefix}/infer`, inferHooks, infer);
  }
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const drain = () => {
    draining = true;
  };
  return {
    app,
    metrics,
    get draining() {
      return draining;
    },
    listen: async ({ host = '127.0.0.1', port = 8000 }) => app.listen({ host, port }),
    drain,
    close: async ({ settleMs = 100 } = {}) => {
      drain();
      await app.ready();
      // Node's http close() also drops connections it sees as idle, including ones just accepted whose request is
      // still unread: stop accepting at the socket level first and give those requests time to arrive.
      if (app.server.listening) net.Server.prototype.close.call(app.server);
      await sleep(settleMs);
      closing = true;
      app.server.closeIdleConnections();
      const busy = () => inflight > 0 || [...served.values()].some((s) => s.batcher.busy);
      while (busy()) await sleep(5);
      await app.close();
    },
  };
}
