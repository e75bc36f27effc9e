#!/usr/bin/env node
// Stands in for node-gyp when prebuildify runs (PREBUILD_NODE_GYP): builds with cmake-js and leaves the
// addon in build/Release/, where prebuildify picks it up for naming, tagging and placement.
// prebuildify passes node-gyp arguments (rebuild --target=... --arch=... --release); Node-API builds need none.
// A prebuild is the addon users get without a compiler, so it links its dependencies statically
// (NCOD_STATIC_DEPS, cmake/static-deps.cmake) and needs nothing but glibc at run time.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildNative } from './build-native.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const staticDeps = path.join(root, 'build', 'static-deps');

try {
  // A position-independent libgomp.a (a no-op when one is there already).
  const gomp = spawnSync('bash', [path.join(root, 'scripts', 'build-libgomp.sh'), staticDeps], { stdio: 'inherit' });
  if (gomp.status !== 0) throw new Error('scripts/build-libgomp.sh failed (see above)');
  const args = ['--CDNCOD_STATIC_DEPS=ON', `--CDNCOD_LIBGOMP_PIC=${path.join(staticDeps, 'libgomp.a')}`];
  buildNative(process.argv.includes('--debug') ? [...args, '--debug'] : args);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
