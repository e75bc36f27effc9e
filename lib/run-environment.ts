// What a result depends on beyond its inputs, recorded in every result file: results are bitwise reproducible
// only for the same SIMD level, BLAS kernel set and thread count (summation orders differ between them).
import os from 'node:os';

import { blasInfo, simdInfo } from './backend.js';
import { version } from './version.js';

export interface RunEnvironment {
  ncod: string;
  node: string;
  cpu: string;
  /** The SIMD level of ncod's kernels (`+ bf16` when the KNN filter uses AVX512-BF16). */
  simd: string;
  /** OpenBLAS's kernel set for this CPU (its DYNAMIC_ARCH core name) and its version line. */
  blas: string;
  openmpThreads: number;
}

export function runEnvironment(): RunEnvironment {
  const cpus = os.cpus();
  const blas = blasInfo();
  const simd = simdInfo();
  return {
    ncod: version,
    node: process.version,
    cpu: `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} logical cores`,
    simd: `${simd.level}${simd.bf16 ? ' + bf16' : ''} (supported: ${simd.supported.join(', ')})`,
    blas: `core ${blas.core}; ${blas.library}`,
    openmpThreads: blas.openmpThreads,
  };
}
