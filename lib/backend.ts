// Backends by name, and their status. The names themselves are in backend-names.ts.
import type { Backend as NativeBackend, RawBackendStatus, RawBlasInfo, RawSimdInfo } from '../binding.js';
import { BACKEND_NAME_LIST, BACKENDS, DEFAULT_BACKEND, isBackendName, type Backend, type BackendName } from './backend-names.js';
import { describe, fail } from './errors.js';
import { native } from './native.js';

// The names the native registry takes (binding.d.ts) and BACKENDS are one set: a backend added to one and not the
// other does not compile.
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const backendListsAgree: SameSet<Backend, NativeBackend> = true;
void backendListsAgree;

export { BACKEND_NAME_LIST, BACKEND_NAMES, BACKENDS, DEFAULT_BACKEND, isBackendName, type Backend, type BackendName } from './backend-names.js';

export type BackendStatus = RawBackendStatus;
export type BlasInfo = RawBlasInfo;
export type SimdInfo = Omit<RawSimdInfo, 'error'>;

/** Every backend with whether it can be used here and, if not, why. */
export function backends(): BackendStatus[] {
  return native().backends();
}

/** The BLAS library behind the CPU backend and the thread counts in use. */
export function blasInfo(): BlasInfo {
  return native().blasInfo();
}

/**
 * The SIMD level of ncod's own CPU kernels (chosen when the addon loads: the best the CPU supports, capped by the
 * NCOD_SIMD environment variable, `portable`, `avx2` or `avx512`) and the levels this CPU supports.
 */
export function simdInfo(): SimdInfo {
  const { level, supported, bf16 } = native().simdInfo();
  return { level, supported, bf16 };
}

/**
 * Sets the threads used by OpenBLAS and ncod's own OpenMP loops: 1 to 4 × the hardware threads (at least 4), else
 * ERR_INVALID_ARGUMENT; ERR_OUT_OF_MEMORY when the system cannot start that many threads (each is started once first).
 */
export function setThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) fail('ERR_INVALID_ARGUMENT', 'threads', 'an integer >= 1', describe(threads));
  native().setThreads(threads);
}

/** The backend a call runs on: 'auto' picks the first accelerator that is available, else the CPU. */
export function pickBackend(name: BackendName = DEFAULT_BACKEND): Backend {
  if (!isBackendName(name)) return fail('ERR_INVALID_ARGUMENT', 'backend', BACKEND_NAME_LIST, describe(name));
  if (name !== 'auto') return name;
  const accelerator = backends().find((b) => b.name !== DEFAULT_BACKEND && b.available);
  return accelerator?.name ?? DEFAULT_BACKEND;
}
