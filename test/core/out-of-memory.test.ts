// A failed allocation inside native work is ERR_OUT_OF_MEMORY, and the process lives on. The child runs under an
// address-space limit (prlimit, util-linux) that a 16384 × 16384 float64 scatter (2 GiB) cannot fit in; it loads
// the raw addon from plain CommonJS because tsx's WebAssembly cannot start under such a limit.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const child = `
const binding = require('node-gyp-build')(${JSON.stringify(root)});
const dim = 16384;
binding
  .classStats({ features: new Float32Array(2 * dim), labels: new Int32Array([0, 1]), rows: 2, dim, numClasses: 2, withScatter: true, allowEmptyClasses: false, backend: 'cpu' })
  .then(() => console.log('no error'), (error) => console.log(error.code + ' ' + error.message))
  .then(() => console.log('still alive'));
`;

describe('out of memory', () => {
  it('rejects with ERR_OUT_OF_MEMORY instead of crashing', () => {
    const r = spawnSync('prlimit', ['--as=3000000000', process.execPath, '-e', child], { cwd: root, encoding: 'utf8' });
    expect(r.error, 'prlimit (util-linux) must be installed').toBeUndefined();
    expect(r.stdout).toMatch(/^ERR_OUT_OF_MEMORY /m);
    expect(r.stdout).toMatch(/^still alive$/m);
    expect(r.status).toBe(0);
  });
});
