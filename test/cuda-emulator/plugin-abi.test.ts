// The addon's side of the CUDA plugin ABI, with tiny stand-in plugins built by the C compiler (no CUDA needed), each
// loaded in a fresh node since a process loads the plugin once: a plugin of another ABI version is refused with the
// versions named, and a failing call's ncod_cuda_status becomes the error code.
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
  writeFileSync(c, source);
  return compile(name, c);
}

function compile(name: string, c: string): string {
  const so = join(dir, `${name}.so`);
  const r = spawnSync('cc', ['-shared', '-fPIC', `-I${join(REPO, 'native/cuda')}`, '-o', so, c], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return so;
}

// Runs `script` (an ES module that prints one JSON line last) in a node that loads `plugin`; returns that line parsed.
function runWith(plugin: string, script: string, env: Record<string, string> = {}): any {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env, NCOD_CUDA_PLUGIN: plugin },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function cudaStatus(plugin: string): { available: boolean; reason?: string } {
  return runWith(plugin, "import { backends } from './lib/index.ts'; console.log(JSON.stringify(backends().find((b) => b.name === 'cuda')));");
}

// The error of classStats on the cuda backend when every plugin call fails with `status`.
function classStatsError(plugin: string, status: number): { code: string; message: string } {
  const script = `import { classStats } from './lib/index.ts';
    const x = new Float32Array([1, 2, 3, 4, 5, 6]), y = new Int32Array([0, 1, 1]);
    classStats(x, y, { numClasses: 2, backend: 'cuda' }).then(
      () => console.log(JSON.stringify({ code: 'resolved', message: '' })),
      (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  return runWith(plugin, script, { NCOD_FAKE_STATUS: String(status) });
}

describe('CUDA plugin ABI version', () => {
  it('a plugin of ABI version 5 is refused, naming both versions and the file', () => {
    const so = fakePlugin(
      'abi5',
      'static const int api[1] = {5};\nconst void* ncod_cuda_get_api(int v) { return v == 5 ? api : 0; }\n',
    );
    const cuda = cudaStatus(so);
    expect(cuda.available).toBe(false);
    expect(cuda.reason).toMatch(/CUDA plugin ABI mismatch: expected version 8, got 5 \(/);
    expect(cuda.reason).toContain(so);
  });

  it('a plugin whose table says another version than asked for is refused', () => {
    const so = fakePlugin('liar', 'static const int api[1] = {9};\nconst void* ncod_cuda_get_api(int v) { return api; }\n');
    expect(cudaStatus(so).reason).toMatch(/ABI mismatch: expected version 8, got 9 /);
  });

  it('a library without ncod_cuda_get_api is not taken for a plugin', () => {
    const so = fakePlugin('other', 'int something_else(void) { return 0; }\n');
    expect(cudaStatus(so).reason).toMatch(/is not an ncod CUDA plugin \(no ncod_cuda_get_api symbol\)/);
  });
});

describe('CUDA plugin statuses', () => {
  const plugin = () => compile('status', join(REPO, 'test/cuda-emulator/status-plugin.c'));
  it('each ncod_cuda_status becomes its error code, with the plugin\'s message and the function named', () => {
    const so = plugin();
    expect(cudaStatus(so)).toMatchObject({ available: true, device: 'fake device' });
    // Numbers as in ncod_cuda_abi.h: 1 invalid argument, 2 out of memory, 3 no device, 4 driver, 5 internal.
    const expected: [number, string][] = [
      [1, 'ERR_INVALID_ARGUMENT'],
      [2, 'ERR_OUT_OF_MEMORY'],
      [3, 'ERR_BACKEND_UNAVAILABLE'],
      [4, 'ERR_BACKEND'],
      [5, 'ERR_BACKEND'],
      [99, 'ERR_BACKEND'], // a status this addon does not know yet
    ];
    for (const [status, code] of expected) {
      const e = classStatsError(so, status);
      expect(e, `status ${status}`).toEqual({ code, message: 'CUDA accumulate_class_sums failed: fake failure' });
    }
  });
});
