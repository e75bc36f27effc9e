#!/usr/bin/env node
// Produces prebuilds/<platform>-<arch>/ with the Node-API addon (named and tagged by prebuildify) and,
// when it was built, the CUDA plugin beside it, where the addon looks for it at run time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const shim = path.join(root, 'scripts', 'node-gyp-shim.js');

const prebuildify = require.resolve('prebuildify/bin.js');
const result = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--node-gyp', shim], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

const plugin = path.join(root, 'build', 'Release', 'libncod_cuda.so');
const target = path.join(root, 'prebuilds', `${os.platform()}-${os.arch()}`);
if (fs.existsSync(plugin)) {
  fs.copyFileSync(plugin, path.join(target, 'libncod_cuda.so'));
  console.log(`prebuild: CUDA plugin copied to ${path.relative(root, target)}/`);
} else {
  console.log('prebuild: no CUDA plugin in this build (no CUDA toolkit with cuBLAS); the prebuild is CPU-only');
}
console.log(fs.readdirSync(target).map((f) => `  ${path.join(path.relative(root, target), f)}`).join('\n'));
