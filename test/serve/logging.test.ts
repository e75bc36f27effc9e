// What the server logs: by default no line per request (they cost a batch-1 server much of its throughput), but
// failures (5xx) are logged; logRequests turns fastify's per-request lines back on.
import { describe, expect, it } from 'vitest';

import { createServer } from '../../lib/serve/server.js';
import type { ServableDetector } from '../../lib/serve/types.js';
import { fakeDetector } from './fake-detector.js';

function logged(logRequests: boolean | undefined, models: Record<string, ServableDetector> = { det: fakeDetector({ dim: 2 }) }) {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  const server = createServer({ models, logger: { level: 'info', stream }, ...(logRequests !== undefined && { logRequests }) });
  const infer = () =>
    server.app.inject({ method: 'POST', url: '/v2/models/det/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] } });
  return { server, lines, infer };
}

describe('request logging', () => {
  it('is off by default: an answered request writes no line', async () => {
    const { server, lines, infer } = logged(undefined);
    expect((await infer()).statusCode).toBe(200);
    expect(lines).toEqual([]);
    await server.close({ settleMs: 0 });
  });

  it('logRequests: true logs each request as it arrives and when it is answered', async () => {
    const { server, lines, infer } = logged(true);
    expect((await infer()).statusCode).toBe(200);
    expect(lines.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    await server.close({ settleMs: 0 });
  });

  it('still logs a failed (5xx) request without logRequests', async () => {
    const broken = { ...fakeDetector({ dim: 2 }), score: () => Promise.reject(new Error('the native call broke')) };
    const { server, lines, infer } = logged(false, { det: broken });
    const r = await infer();
    expect(r.statusCode).toBe(500);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[50, 'request failed']]);
    expect((lines[0].err as { message: string }).message).toBe('the native call broke');
    await server.close({ settleMs: 0 });
  });

  it('refuses a logRequests that is not a boolean', () => {
    expect(() => createServer({ models: { det: fakeDetector() }, logRequests: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/logRequests: expected a boolean, got/) }),
    );
  });
});
