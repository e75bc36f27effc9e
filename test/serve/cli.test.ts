// `ncod serve` as a process (run from sources, as the other CLI tests do): it loads saved detectors, logs JSON, and on
// SIGTERM under load fails readiness, answers every request it received, and exits 0. Plus its refusals and --help.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { METRIC_NAMES } from '../../lib/cli/commands/serve.js';
import { METRIC_HELP } from '../../lib/serve/metrics.js';
import { expectCliError, runCli } from '../cli/helpers.js';
import { saveDetectors, type SavedDetectors } from './saved-detectors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let saved: SavedDetectors;
beforeAll(async () => {
  saved = await saveDetectors();
});

function serve(args: string[]): { child: ChildProcess; url: Promise<string>; logs: Record<string, unknown>[]; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/run.ts', 'serve', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (line.msg === 'ncod serve ready') resolve(line.url as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`ncod serve exited with ${code} before listening: ${stderr}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, logs, exit };
}

type Outcome = { status: number } | { error: string; sent: boolean };

/** One request on its own connection; `sent` tells whether the connection was made before it failed. */
function request(url: string, path: string, body?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let connected = false;
    const req = http.request(`${url}${path}`, { method: body ? 'POST' : 'GET', agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('socket', (socket) => socket.on('connect', () => (connected = true)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, sent: connected }));
    req.end(body);
  });
}

describe('ncod serve (process)', () => {
  it('SIGTERM during load: readiness fails, every request received is answered, exit code 0', async () => {
    const { child, url: urlPromise, logs, exit } = serve(['--detector', `maha=${saved.maha}`, '--detector', saved.knn, '--port', '0', '--drain-delay-ms', '400']);
    const url = await urlPromise;
    expect(logs.find((l) => l.msg === 'ncod serve ready')?.models).toMatchObject({ maha: { method: 'mahalanobis', calibrated: true }, knn: { method: 'knn', calibrated: false } });
    const rows = Array.from(saved.test.subarray(0, 16 * saved.dim));
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [16, saved.dim], data: rows }] });
    // The clients act as a load balancer does: they poll readiness and stop opening connections once it fails. (A
    // connection still in the kernel's accept queue when any server closes its listener is reset unseen, so the
    // drain delay is what keeps those from existing.)
    const outcomes: Outcome[] = [];
    let answered = 0;
    let notReady = false;
    const poll = (async () => {
      while (!notReady) {
        const r = await request(url, '/v2/health/ready');
        if ('status' in r && r.status === 503) notReady = true;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const loop = async (model: string) => {
      while (!notReady) {
        const o = await request(url, `/v2/models/${model}/infer`, body);
        outcomes.push(o);
        if ('status' in o) answered++;
      }
    };
    const loops = [...Array(6)].map((_, k) => loop(k % 2 ? 'maha' : 'knn'));
    while (answered < 30) await new Promise((r) => setTimeout(r, 5));
    const answeredAtSignal = answered;
    child.kill('SIGTERM');
    await poll;
    expect(await request(url, '/v2/health/live')).toEqual({ status: 200 }); // alive while draining
    await Promise.all(loops);
    expect(await exit).toBe(0);
    expect(outcomes.filter((o) => 'error' in o)).toEqual([]); // every request sent got an answer
    expect(answered).toBeGreaterThan(answeredAtSignal); // including ones in flight or sent after the signal
    const statuses = outcomes.flatMap((o) => ('status' in o ? [o.status] : []));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(30);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('refuses a damaged detector file, duplicate names and a bad name before listening', async () => {
    const { writeFileSync } = await import('node:fs');
    const bad = join(saved.dir, 'bad.ncod');
    writeFileSync(bad, 'not a detector at all');
    expectCliError(['serve', '--detector', bad, '--port', '0'], 'ERR_FILE_FORMAT');
    expectCliError(['serve', '--detector', saved.maha, '--detector', `maha=${saved.knn}`, '--port', '0'], 'ERR_INVALID_ARGUMENT');
    expectCliError(['serve', '--detector', `a/b=${saved.maha}`, '--port', '0'], 'ERR_INVALID_ARGUMENT');
  });

  it('a port already in use fails with ERR_IO and exit code 1', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { exit, child, url } = serve(['--detector', saved.knn, '--port', String(port), '--log-level', 'silent']);
      url.catch(() => {}); // it never listens
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      expect(await exit).toBe(1);
      expect(stderr).toMatch(new RegExp(`^error ERR_IO: --host 127.0.0.1 --port ${port}: expected to listen there, got .*EADDRINUSE`));
    } finally {
      taken.close();
    }
  });

  it('--help shows an example and every metric the server exports', () => {
    const r = runCli(['serve', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('$ ncod serve --detector det.ncod');
    const listed = METRIC_NAMES.map((line) => line.split('{')[0]);
    expect(listed).toEqual(Object.keys(METRIC_HELP));
    for (const name of listed) expect(r.stdout).toContain(name);
    for (const flag of ['--max-batch-rows', '--max-delay-ms', '--max-queue-rows', '--body-limit', '--request-timeout-ms', '--log-level']) expect(r.stdout).toContain(flag);
  });
});
