// Bridges an AbortSignal to the int32 flag native workers poll between chunks.
import { NcodError } from './errors.js';

export function abortedError(): NcodError {
  return new NcodError('ERR_ABORTED', 'the operation was aborted');
}

/** Runs native work with a cancel flag that flips when `signal` aborts. */
export async function withCancelFlag<T>(
  signal: AbortSignal | undefined,
  run: (flag: Int32Array | undefined) => Promise<T>,
): Promise<T> {
  if (!signal) return run(undefined);
  if (signal.aborted) throw abortedError();
  // On a SharedArrayBuffer: the worker thread polls it, and such a buffer cannot be detached or shrunk under it.
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = () => {
    flag[0] = 1;
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await run(flag);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
