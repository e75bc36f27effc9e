// What the server needs from a detector, and the server's options. A detector loaded with `detectors.load(path)`
// offers this interface; the server depends on nothing else, so tests can serve small fakes.

export interface ServableDetector {
  /** e.g. 'mahalanobis', 'knn', 'energy' (as `ncod score --method` spells it). */
  readonly method: string;
  /** The one input tensor: its name on the wire and its row width. */
  readonly input: { name: 'features' | 'logits'; dim: number };
  /** Present when the detector was calibrated: the threshold holding `tpr` of `n` held-out ID rows. */
  readonly calibration: { tpr: number; threshold: number; n: number } | undefined;
  /** rows: B×dim row-major; higher = more in-distribution. */
  score(rows: Float32Array, run?: { signal?: AbortSignal }): Promise<Float64Array>;
  /** Scores plus the calibrated decision; needs a calibration. */
  decide(rows: Float32Array, run?: { signal?: AbortSignal }): Promise<{ score: Float64Array; pValue: Float64Array; isOOD: Uint8Array }>;
  dispose(): void;
}

/** One batch's results: scores always, decisions when the detector is calibrated. */
export interface BatchResult {
  score: Float64Array;
  pValue?: Float64Array;
  isOOD?: Uint8Array;
}

export interface ServerOptions {
  /** The models served, by the name used in the URL (/v2/models/{name}). */
  models: Record<string, ServableDetector>;
  /** Rows one score/decide call takes at most (a larger request still runs, alone); default 1024. */
  maxBatchRows?: number;
  /** How long the first queued request waits for others to join a batch while the model is idle; default 1 ms. */
  maxDelayMs?: number;
  /** Rows waiting per model before new requests get 503 with Retry-After; default 16384. */
  maxQueueRows?: number;
  /** Largest request body in bytes (413 beyond); default 64 MiB. */
  bodyLimit?: number;
  /** A request not answered in this time gets 503 ERR_TIMEOUT (and its rows leave the queue); default 30000. */
  requestTimeoutMs?: number;
  /** Decisions per model in the sliding window behind the OOD-rate and drift gauges; default 1000. */
  driftWindow?: number;
  /** fastify's logger option (pino): false (default) for none, true or { level } for JSON logs on stdout (or `stream`). */
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** Log every request (fastify's "incoming request" and "request completed" lines); default false. */
  logRequests?: boolean;
  /** Reported by GET /v2; default 'ncod'. */
  serverName?: string;
}
