#!/usr/bin/env node
// npm install step: use a prebuilt addon when one loads on this machine, otherwise build from source
// with cmake-js. (node-gyp-build's own fallback would run `node-gyp rebuild`, which cannot build this project.)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildNative } from './build-native.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The addon node-gyp-build would load here (build/Release first, then prebuilds/), if it loads; else null. */
function existingBuild() {
  // In a child process: a broken binary must not take this script down with it.
  const probe = `const b = require('node-gyp-build'); b(${JSON.stringify(root)}); console.log(b.resolve(${JSON.stringify(root)}))`;
  const result = spawnSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return result.status === 0 ? result.stdout.trim() : null;
}

const found = process.env.NCOD_BUILD_FROM_SOURCE === '1' ? null : existingBuild();
if (found) {
  console.log(`ncod: using the native addon ${path.relative(root, found)} (it loads here; nothing to compile)`);
} else {
  console.log('ncod: no prebuilt addon loads here; building from source with cmake-js');
  try {
    buildNative();
  } catch (error) {
    console.error(`ncod: ${error.message}`);
    process.exit(1);
  }
}
