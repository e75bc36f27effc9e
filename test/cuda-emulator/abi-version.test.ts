// The addon refuses a CUDA plugin built for another ABI version and says which versions it saw. Builds two tiny
// stand-in plugins with the C compiler (no CUDA needed) and loads each in a fresh node, since a process loads the
// plugin once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ncod-abi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A plugin with just ncod_cuda_get_api: it answers only `version`, as a real plugin of that version does.
function fakePlugin(name: string, source: string): string {
  const c = join(dir, `${name}.c`);
  const so = join(dir, `${name}.so`);
  writeFileSync(c, source);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-o', so, c], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return so;
}

function cudaStatus(plugin: string): { available: boolean; reason?: string } {
  const script = "import { backends } from './lib/index.ts'; console.log(JSON.stringify(backends().find((b) => b.name === 'cuda')));";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NCOD_CUDA_PLUGIN: plugin },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('CUDA plugin ABI version', () => {
  it('a plugin of ABI version 5 is refused, naming both versions and the file', () => {
    const so = fakePlugin(
      'abi5',
      'static const int api[1] = {5};\nconst void* ncod_cuda_get_api(int v) { return v == 5 ? api : 0; }\n',
    );
    const cuda = cudaStatus(so);
    expect(cuda.available).toBe(false);
    expect(cuda.reason).toMatch(/CUDA plugin ABI mismatch: expected version 6, got 5 \(/);
    expect(cuda.reason).toContain(so);
  });

  it('a plugin whose table says another version than asked for is refused', () => {
    const so = fakePlugin('liar', 'static const int api[1] = {7};\nconst void* ncod_cuda_get_api(int v) { return api; }\n');
    expect(cudaStatus(so).reason).toMatch(/ABI mismatch: expected version 6, got 7 /);
  });

  it('a library without ncod_cuda_get_api is not taken for a plugin', () => {
    const so = fakePlugin('other', 'int something_else(void) { return 0; }\n');
    expect(cudaStatus(so).reason).toMatch(/is not an ncod CUDA plugin \(no ncod_cuda_get_api symbol\)/);
  });
});
