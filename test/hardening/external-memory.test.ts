// Native memory is reported to V8 (AdjustExternalMemory): dropping many large accumulators must let the collector
// run and free them, instead of RSS growing by the sum of their states while V8 sees only small JS objects.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function runChild(count: number, dim: number): Promise<{ before: number; peak: number }> {
  const args = [path.join(root, 'test/hardening/external-memory-child.cjs'), path.join(root, 'build/Release/ncod.node'), String(count), String(dim)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

describe('external memory', () => {
  it('200 dropped accumulators of dim 1024 (8 MiB of state each) keep RSS far below their 1.6 GB sum', async () => {
    const { before, peak } = await runChild(200, 1024);
    // Measured: about +100 MB with the report, +1.6 GB without it (nothing is collected).
    expect(peak - before).toBeLessThan(500 * 2 ** 20);
  }, 60_000);
});
