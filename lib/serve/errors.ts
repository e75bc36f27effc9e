// How an NcodError reaches an HTTP client: the status its code stands for, and the Open Inference Protocol's error
// body {"error": "<code>: <message>"} (the code first, so clients can branch on it without parsing prose).
import { NcodError, toNcodError, type ErrorCode } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_NOT_FOUND: 404,
  ERR_TOO_LARGE: 413,
  ERR_UNAVAILABLE: 503,
  ERR_TIMEOUT: 503,
  ERR_ABORTED: 499, // nginx's "client closed request": no one reads it, but logs and metrics tell it apart
  ERR_INTERNAL: 500,
  ERR_BACKEND: 500,
  ERR_BACKEND_UNAVAILABLE: 500,
  ERR_OUT_OF_MEMORY: 500,
  ERR_IO: 500,
};

/** 400 for everything the request got wrong (shape, dtype, values, JSON), otherwise the code's own status. */
export function statusOf(error: NcodError): number {
  return STATUS[error.code] ?? 400;
}

export function errorBody(error: NcodError): { error: string } {
  return { error: `${error.code}: ${error.message}` };
}

/**
 * fastify's own errors (body too large, bad Content-Length, …) and anything else as an NcodError: a fastify 4xx is the
 * client's mistake, anything without a status is a bug.
 */
export function toServeError(error: unknown): NcodError {
  if (error instanceof NcodError) return error;
  const e = error as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new NcodError('ERR_TOO_LARGE', `request body: expected at most the body limit, got more (${String(e.message)})`);
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new NcodError('ERR_INVALID_ARGUMENT', `request: expected a well-formed HTTP request, got ${String(e.message)}`);
  }
  return toNcodError(error);
}

/** Why a request ended without an answer when its client closed the connection first. */
export function clientLeft(): NcodError {
  return new NcodError('ERR_ABORTED', 'request: expected the client to wait for the answer, got a closed connection');
}
