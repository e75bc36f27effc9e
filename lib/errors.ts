/** Stable error codes. Native code throws the same codes (native/core/error.h). */
export const ErrorCodes = [
  'ERR_SHAPE',
  'ERR_DTYPE',
  'ERR_LABEL_RANGE',
  'ERR_NOT_FINITE',
  'ERR_EMPTY_CLASS',
  'ERR_INVALID_ARGUMENT',
  'ERR_BACKEND_UNAVAILABLE',
  'ERR_BACKEND',
  'ERR_FILE_FORMAT',
  'ERR_ABORTED',
  'ERR_OUT_OF_MEMORY',
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
