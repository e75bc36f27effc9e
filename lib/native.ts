// The only module that loads the native addon. Everything else imports `native()` from here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeBinding } from '../binding.js';
import { NcodError, type ErrorCode } from './errors.js';

const require = createRequire(import.meta.url);
// lib/native.ts (sources) and dist/native.js (published) both sit one folder below the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let binding: NativeBinding | undefined;

// The OpenBLAS kernel set (a DYNAMIC_ARCH core name) that a CPU of a capped level would get. OpenBLAS does not
// check a forced core against the CPU, so Haswell's (AVX2 + FMA) is named only where /proc/cpuinfo lists both.
function blasCoreForSimdCap(cap: string | undefined): string | undefined {
  if (process.arch !== 'x64') return undefined;
  if (cap === 'portable') return 'Prescott'; // SSE3: every x86-64 CPU since 2005
  if (cap !== 'avx2') return undefined;
  let flags: string[] = [];
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [];
  } catch {
    return undefined; // not Linux: OpenBLAS keeps its own choice
  }
  return flags.includes('avx2') && flags.includes('fma') ? 'Haswell' : undefined;
}

/** Loads the addon on first use, so `ncod --help` and pure-TS helpers work even without a build. */
export function native(): NativeBinding {
  if (binding) return binding;
  // Idle OpenMP threads sleep instead of spinning: with other busy processes on the cores, spinning threads
  // stall every barrier (measured 4× slower training steps). libgomp reads this once, when the addon loads it.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  // NCOD_SIMD caps ncod's own kernels in C++ (native/cpu/simd.h); it caps OpenBLAS's run-time kernel choice too,
  // unless OPENBLAS_CORETYPE is set, so a forced level runs the numerical stack a CPU of that class would run.
  // OpenBLAS reads the variable once, when the addon loads it.
  const blasCore = blasCoreForSimdCap(process.env.NCOD_SIMD);
  if (blasCore) process.env.OPENBLAS_CORETYPE ??= blasCore;
  const load = require('node-gyp-build') as (dir: string) => NativeBinding;
  let loaded: NativeBinding;
  try {
    loaded = load(packageRoot);
  } catch (cause) {
    throw new NcodError(
      'ERR_BACKEND_UNAVAILABLE',
      `native addon: expected a build in build/Release or prebuilds/, got none that loads ` +
        `(run \`npm run build:native\`; it needs CMake, a C++17 compiler and libopenblas-dev): ${(cause as Error).message}`,
      { cause },
    );
  }
  const simdError = loaded.simdInfo().error; // the C++ side reads and checks NCOD_SIMD
  if (simdError) throw new NcodError('ERR_INVALID_ARGUMENT', simdError);
  loaded.setErrorClass(class extends NcodError {
    constructor(code: string, message: string) {
      super(code as ErrorCode, message);
    }
  });
  binding = loaded;
  return binding;
}
