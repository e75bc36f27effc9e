#!/usr/bin/env node
// Stands in for node-gyp when prebuildify runs (PREBUILD_NODE_GYP): builds with cmake-js and leaves the
// addon in build/Release/, where prebuildify picks it up for naming, tagging and placement.
// prebuildify passes node-gyp arguments (rebuild --target=... --arch=... --release); Node-API builds need none.
import { buildNative } from './build-native.js';

try {
  buildNative(process.argv.includes('--debug') ? ['--debug'] : []);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
