// Backend names as users write them, and their status.
import type { BackendId, RawBackendStatus, RawBlasInfo, RawSimdInfo } from '../binding.js';
import { describe, fail } from './errors.js';
import { native } from './native.js';

export type BackendName = 'cpu' | 'cuda' | 'auto';
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

/** 'auto' picks CUDA when it is available and the CPU otherwise. */
export function resolveBackend(name: BackendName = 'cpu'): BackendId {
  switch (name) {
    case 'cpu':
      return 0;
    case 'cuda':
      return 1;
    case 'auto':
      return backends().some((b) => b.name === 'cuda' && b.available) ? 1 : 0;
    default:
      return fail('ERR_INVALID_ARGUMENT', 'backend', "'cpu', 'cuda' or 'auto'", describe(name));
  }
}
