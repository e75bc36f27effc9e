#!/usr/bin/env node
// Produces prebuilds/<platform>-<arch>/ with the Node-API addon (named and tagged by prebuildify, built by the
// node-gyp shim with its dependencies linked statically) and, when it was built, the CUDA plugin beside it,
// where the addon looks for it at run time. `npm pack` ships prebuilds/; never build/ (package.json "files").
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const shim = path.join(root, 'scripts', 'node-gyp-shim.js');
const target = path.join(root, 'prebuilds', `${os.platform()}-${os.arch()}`);

// Start empty: a plugin or addon left from an older prebuild must not be published with this one.
fs.rmSync(target, { recursive: true, force: true });

const prebuildify = require.resolve('prebuildify/bin.js');
// --tag-libc names it ncod.napi.glibc.node, so node-gyp-build does not pick it on musl (Alpine) systems,
// where it could not load; there the install builds from source.
const result = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--tag-libc', '--node-gyp', shim], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

const plugin = path.join(root, 'build', 'Release', 'libncod_cuda.so');
if (fs.existsSync(plugin)) {
  fs.copyFileSync(plugin, path.join(target, 'libncod_cuda.so'));
  console.log(`prebuild: CUDA plugin copied to ${path.relative(root, target)}/`);
} else {
  console.log('prebuild: no CUDA plugin in this build (no CUDA toolkit with cuBLAS); the prebuild is CPU-only');
}
for (const file of fs.readdirSync(target)) {
  const { size } = fs.statSync(path.join(target, file));
  console.log(`  ${path.join(path.relative(root, target), file)} (${(size / 2 ** 20).toFixed(1)} MiB)`);
}
