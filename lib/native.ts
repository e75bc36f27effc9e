// The only module that loads the native addon. Everything else imports `native()` from here.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeBinding } from '../binding.js';
import { NcodError, type ErrorCode } from './errors.js';

const require = createRequire(import.meta.url);
// lib/native.ts (sources) and dist/native.js (published) both sit one folder below the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so `ncod --help` and pure-TS helpers work even without a build. */
export function native(): NativeBinding {
  if (binding) return binding;
  // Idle OpenMP threads sleep instead of spinning: with other busy processes on the cores, spinning threads
  // stall every barrier (measured 4× slower training steps). libgomp reads this once, when the addon loads it.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
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
  loaded.setErrorClass(class extends NcodError {
    constructor(code: string, message: string) {
      super(code as ErrorCode, message);
    }
  });
  binding = loaded;
  return binding;
}
