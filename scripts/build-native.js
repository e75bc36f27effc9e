#!/usr/bin/env node
// Builds the native addon (and the CUDA plugin where a toolkit with cuBLAS exists) with cmake-js in
// Node-API mode, leaving build/Release/ncod.node (+ libncod_cuda.so) where node-gyp-build looks.
// Extra arguments go to cmake-js, e.g. `--CDNCOD_CUDA=OFF`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export function missingTools() {
  const missing = [];
  const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  if (!has('cmake')) missing.push('CMake >= 3.18 (apt-get install cmake)');
  if (!has(process.env.CXX || 'c++')) missing.push('a C++17 compiler (apt-get install g++)');
  // pkg-config is the cheap probe; without it CMake's own search still runs and names OpenBLAS if absent.
  if (has('pkg-config') && !has('pkg-config', ['--exists', 'openblas'])) {
    missing.push('OpenBLAS (apt-get install libopenblas-dev)');
  }
  return missing;
}

export function buildNative(extraArgs = []) {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`cannot build the ncod addon: missing ${missing.join(', ')}`);
  }
  // CMake caches options: say NCOD_STATIC_DEPS every time, or a development build after `npm run prebuild`
  // would silently stay the static prebuild variant.
  if (!extraArgs.some((arg) => arg.startsWith('--CDNCOD_STATIC_DEPS='))) extraArgs = [...extraArgs, '--CDNCOD_STATIC_DEPS=OFF'];
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const common = ['--directory', root, '--out', path.join(root, 'build')];
  // Configure every time so options such as --CDNCOD_CUDA_COMPILE_CHECK=ON reach an existing build folder.
  const run = (command, args) => spawnSync(process.execPath, [cmakeJs, command, ...common, ...args], { cwd: root, stdio: 'inherit' });
  const result = run('configure', extraArgs).status === 0 ? run('build', ['--parallel', jobs, ...extraArgs]) : { status: 1 };
  if (result.status !== 0) {
    throw new Error(
      'cmake-js failed to build the ncod addon. Look above for the first error; the usual causes are a missing ' +
        'OpenBLAS (apt-get install libopenblas-dev), compiler or CMake.',
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildNative(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
