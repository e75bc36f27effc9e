// Graceful shutdown: on SIGTERM (Kubernetes stopping a pod) or SIGINT (Ctrl-C), readiness fails first so the load
// balancer stops routing here, then the listener closes and every request already received, with the batch it is
// in, finishes and is answered; only then does the process exit, with 0. A second signal exits at once, with 1.
import type { NcodServer } from './server.js';

export interface DrainOptions {
  /** How long readiness fails before the listener closes, for endpoints to notice; default 0. */
  drainDelayMs?: number;
  /** The most to wait for requests in flight (they time out by --request-timeout-ms anyway). */
  timeoutMs: number;
}

/** Drains and closes `server`; true when everything in flight finished within the timeout. */
export async function drainAndClose(server: NcodServer, { drainDelayMs = 0, timeoutMs }: DrainOptions): Promise<boolean> {
  server.drain();
  if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([server.close().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `shutdown` once on the first SIGTERM or SIGINT; returns a function that removes the handlers. */
export function onShutdownSignals(shutdown: (signal: NodeJS.Signals) => void, onForced: (signal: NodeJS.Signals) => void): () => void {
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) return onForced(signal);
    received = true;
    shutdown(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
