#!/usr/bin/env node
// npm install step: use a prebuilt addon when one loads on this machine, otherwise build from source
// with cmake-js. (node-gyp-build's own fallback would run `node-gyp rebuild`, which cannot build this project.)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildNative } from './build-native.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function existingBuildLoads() {
  // In a child process: a broken binary must not take this script down with it.
  const probe = `require('node-gyp-build')(${JSON.stringify(root)})`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' }).status === 0;
}

if (process.env.NCOD_BUILD_FROM_SOURCE !== '1' && existingBuildLoads()) {
  console.log('ncod: using the prebuilt native addon');
} else {
  console.log('ncod: no prebuilt addon loads here; building from source with cmake-js');
  try {
    buildNative();
  } catch (error) {
    console.error(`ncod: ${error.message}`);
    process.exit(1);
  }
}
