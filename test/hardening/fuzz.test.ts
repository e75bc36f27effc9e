// A bounded fuzz of the raw binding (issue #15): random calls built from valid ones with wrong types, shapes,
// lengths, NaNs, detached, shared and resizable buffers, sparse arrays, wrong arity, and inputs transferred away
// while the call runs (test/hardening/fuzz-child.cjs). In a child process, under a 16 GiB address-space limit, so a
// crash is a signal here and a huge allocation fails instead of swapping. A few seconds by default;
// `npm run fuzz` (NCOD_FUZZ_ITERATIONS, default 20 000 there; NCOD_FUZZ_SEED) runs longer.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ErrorCodes } from '../../lib/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const iterations = Number(process.env.NCOD_FUZZ_ITERATIONS ?? 1500);
const seed = Number(process.env.NCOD_FUZZ_SEED ?? 20261201);

function runFuzz(): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const args = [
    '--expose-gc',
    path.join(root, 'test/hardening/fuzz-child.cjs'),
    path.join(root, 'build/Release/ncod.node'),
    String(iterations),
    String(seed),
    JSON.stringify(ErrorCodes),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'ulimit -v 16777216 && exec "$0" "$@"', process.execPath, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe(`fuzz: ${iterations} random raw-binding calls (seed ${seed})`, () => {
  it('nothing crashes or hangs, and every error has a documented code', async () => {
    const r = await runFuzz();
    const context = `code ${r.code}, signal ${r.signal}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;
    expect(r.signal, context).toBeNull();
    expect(r.code, context).toBe(0);
    const counts = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number> & { samples: string[] };
    console.log(`fuzz counts (seed ${seed}): ${JSON.stringify(counts)}`);
    expect(counts.calls).toBe(iterations);
    expect(counts.samples, context).toEqual([]);
    expect(counts.uncoded).toBe(0);
    expect(counts.hung).toBe(0);
    expect(counts.returned + counts.resolved + counts.syncErrors + counts.rejections).toBe(iterations);
    // The mutations must reach past the first checks: some calls succeed, some fail later, in the worker.
    expect(counts.resolved).toBeGreaterThan(iterations / 20);
    expect(counts.rejections).toBeGreaterThan(0);
  }, 15 * 60_000);
});
