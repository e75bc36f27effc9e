/**
 * Stable error codes, each with what it means for the user. Native code throws a subset of them
 * (native/core/error.h, names in native/core/error.cpp; test/core/errors.test.ts checks they are all listed here):
 * ERR_TOO_LARGE, ERR_IO, ERR_INTERNAL and the server's ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_TIMEOUT only arise in TypeScript.
 */
export const ErrorCodes = [
  'ERR_SHAPE', // an array's shape or length does not fit the others (rows vs labels, weights vs dim, ...)
  'ERR_DTYPE', // an array of the wrong element type (e.g. integer scores, float labels)
  'ERR_LABEL_RANGE', // a label outside [0, numClasses)
  'ERR_NOT_FINITE', // a NaN or ±Infinity in the input
  'ERR_EMPTY_CLASS', // a class without samples where every class needs some
  'ERR_INVALID_ARGUMENT', // an option or argument outside what is accepted (including a missing input file)
  'ERR_BACKEND_UNAVAILABLE', // the requested backend (or the native addon itself) cannot be used here; the message says why
  'ERR_BACKEND', // the backend failed while computing (a CUDA or BLAS error)
  'ERR_FILE_FORMAT', // a file that is damaged, truncated, or in a format or version ncod does not read
  'ERR_ABORTED', // cancelled through an AbortSignal
  'ERR_OUT_OF_MEMORY', // an allocation failed: the input or its statistics do not fit in free memory
  'ERR_TOO_LARGE', // an input beyond a fixed limit, e.g. more elements than one typed array holds (2^32 on Node 20)
  'ERR_IO', // the file system refused a read or write (permissions, a folder where a file was expected, a full disk)
  'ERR_INTERNAL', // a bug in ncod: please report it, with the command
  'ERR_NOT_FOUND', // ncod serve: no such model, version or endpoint (HTTP 404)
  'ERR_UNAVAILABLE', // ncod serve: the queue is full or the server is shutting down; retry after the Retry-After seconds (HTTP 503)
  'ERR_TIMEOUT', // ncod serve: the request was not answered within --request-timeout-ms (HTTP 503)
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** Every error ncod raises on purpose, from TypeScript or from C++. `code` is stable; the message says "expected X, got Y". */
export class NcodError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NcodError';
    this.code = code;
  }
}

/** Throws an NcodError whose message reads "<what>: expected <expected>, got <got>". */
export function fail(code: ErrorCode, what: string, expected: string, got: string): never {
  throw new NcodError(code, `${what}: expected ${expected}, got ${got}`);
}

/** Human-readable description of a JS value for "got Y" parts of messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const n = (value as unknown as { length?: number }).length;
    return `${value.constructor.name}(${n ?? value.byteLength})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return typeof value;
}

/** V8's RangeError for an ArrayBuffer (typed array, Buffer) it could not allocate: the memory is not there. */
export function isAllocationFailure(error: unknown): boolean {
  return error instanceof RangeError && /allocation failed/i.test(error.message);
}

/**
 * Any thrown value as an NcodError with a documented code, for the CLI's one report line: NcodErrors as they are,
 * a failed allocation as ERR_OUT_OF_MEMORY, a file-system refusal (Node's errors with a `syscall`) as ERR_IO, and
 * anything else, which no known path should reach, as ERR_INTERNAL.
 */
export function toNcodError(error: unknown): NcodError {
  if (error instanceof NcodError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isAllocationFailure(error)) {
    return new NcodError('ERR_OUT_OF_MEMORY', `memory: expected room for the arrays, got an allocation failure (${message})`, { cause: error });
  }
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  if (error instanceof Error && typeof syscall === 'string') {
    return new NcodError('ERR_IO', `file system: expected ${syscall} to succeed, got ${message}`, { cause: error });
  }
  return new NcodError('ERR_INTERNAL', `${message} (a bug in ncod: please report it, with the command)`, { cause: error });
}
