// The server on a real loopback port: concurrent clients coalesced into batches, a client that disappears mid-request,
// a full queue, the request deadline, two replicas behind a round-robin client, and Python's requests unchanged.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { createServer, type NcodServer } from '../../lib/serve/server.js';
import { findPython } from '../helpers/python.js';
import { fakeDetector, fakeScore } from './fake-detector.js';
import { metricSum } from './metrics-text.js';

const dim = 4;
const open: NcodServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(...args: Parameters<typeof createServer>): Promise<{ server: NcodServer; url: string }> {
  const server = createServer(...args);
  open.push(server);
  return { server, url: await server.listen({ host: '127.0.0.1', port: 0 }) };
}

const rowsOf = (n: number, seed: number) => Float32Array.from({ length: n * dim }, (_, i) => Math.fround(Math.sin(seed * 7.1 + i)));
const body = (rows: Float32Array) => JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length / dim, dim], data: Array.from(rows) }] });
const post = (url: string, model: string, payload: string) =>
  fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
const metricsOf = async (url: string) => (await fetch(`${url}/metrics`)).text();

describe('ncod serve over loopback', () => {
  it('coalesces concurrent clients into batches; each gets its own scores', async () => {
    const det = fakeDetector({ dim, delayMs: 20 });
    const { url } = await start({ models: { det }, maxDelayMs: 2 });
    const sent = Array.from({ length: 24 }, (_, k) => rowsOf(1 + (k % 3), k));
    const answers = await Promise.all(sent.map(async (rows) => (await post(url, 'det', body(rows))).json()));
    answers.forEach((a, k) => expect(a.outputs[0].data).toEqual(Array.from(fakeScore(sent[k], dim))));
    expect(det.calls.length).toBeLessThan(sent.length);
    expect(Math.max(...det.calls)).toBeGreaterThan(3);
    const text = await metricsOf(url);
    const batches = metricSum(text, 'ncod_serve_batch_requests_count', { model: 'det' });
    const single = metricSum(text, 'ncod_serve_batch_requests_bucket', { model: 'det', le: '1' });
    expect(batches).toBe(det.calls.length);
    expect(single).toBeLessThan(batches); // some batch held more than one request
    expect(metricSum(text, 'ncod_serve_rows_total', { model: 'det' })).toBe(sent.reduce((s, r) => s + r.length / dim, 0));
    expect(metricSum(text, 'ncod_serve_requests_total', { model: 'det', status: '200' })).toBe(24);
  });

  it('a client killed mid-request: its queued rows are dropped, the server keeps serving', async () => {
    const det = fakeDetector({ dim, delayMs: 80 });
    const { url } = await start({ models: { det }, maxDelayMs: 0 });
    const port = Number(new URL(url).port);
    const first = post(url, 'det', body(rowsOf(2, 1))); // runs while the next one queues
    await new Promise((r) => setTimeout(r, 20));
    // A whole request (7 rows) sent on a raw socket that is destroyed while the request waits in the queue.
    const payload = body(rowsOf(7, 2));
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /v2/models/det/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`);
    await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    // Another one that dies half-way through its body.
    const half = net.connect(port, '127.0.0.1');
    await new Promise((r) => half.once('connect', r));
    half.write(`POST /v2/models/det/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n${payload.slice(0, 30)}`);
    await new Promise((r) => setTimeout(r, 10));
    half.destroy();
    const third = await post(url, 'det', body(rowsOf(1, 3)));
    expect(third.status).toBe(200);
    expect((await first).status).toBe(200);
    expect(det.calls).toEqual([2, 1]); // the 7 rows never reached the detector
    const text = await metricsOf(url);
    expect(metricSum(text, 'ncod_serve_requests_total', { model: 'det', status: '499' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, 'ncod_serve_requests_total', { model: 'det', status: '200' })).toBe(2);
    expect(metricSum(text, 'ncod_serve_queue_rows', { model: 'det' })).toBe(0);
  });

  it('a full queue answers 503 with Retry-After and ERR_UNAVAILABLE; the accepted ones are answered', async () => {
    const det = fakeDetector({ dim, delayMs: 60 });
    const { url } = await start({ models: { det }, maxDelayMs: 0, maxBatchRows: 4, maxQueueRows: 8 });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, k) => post(url, 'det', body(rowsOf(4, k)))));
    const full = responses.filter((r) => r.status === 503);
    expect(full.length).toBeGreaterThan(0);
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(full[0].headers.get('retry-after')).toBe('1');
    expect((await full[0].json()).error).toMatch(/^ERR_UNAVAILABLE: queue: expected room for 4 rows/);
    const big = await post(url, 'det', body(rowsOf(9, 0)));
    expect([big.status, (await big.json()).error]).toEqual([413, expect.stringMatching(/^ERR_TOO_LARGE: request rows/)]);
  });

  it('a request not answered within --request-timeout-ms gets 503 ERR_TIMEOUT', async () => {
    const det = fakeDetector({ dim, delayMs: 400 });
    const { url } = await start({ models: { det }, requestTimeoutMs: 100 });
    const start_ = performance.now();
    const r = await post(url, 'det', body(rowsOf(1, 0)));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect((await r.json()).error).toMatch(/^ERR_TIMEOUT: /);
    expect(performance.now() - start_).toBeLessThan(350);
  });

  it('two replicas behind a round-robin client: the summed counters equal the requests sent', async () => {
    const replicas = [await start({ models: { det: fakeDetector({ dim }) } }), await start({ models: { det: fakeDetector({ dim }) } })];
    let sentRows = 0;
    const statuses: number[] = [];
    for (let k = 0; k < 31; k++) {
      const { url } = replicas[k % 2];
      const bad = k % 5 === 4;
      const rows = rowsOf(1 + (k % 4), k);
      if (!bad) sentRows += rows.length / dim;
      statuses.push((await post(url, 'det', bad ? '{"inputs": 1}' : body(rows))).status);
    }
    const texts = await Promise.all(replicas.map(({ url }) => metricsOf(url)));
    const sum = (name: string, labels: Record<string, string> = {}) => texts.reduce((s, t) => s + metricSum(t, name, labels), 0);
    expect(sum('ncod_serve_requests_total')).toBe(31);
    expect(sum('ncod_serve_requests_total', { status: '200' })).toBe(statuses.filter((s) => s === 200).length);
    expect(sum('ncod_serve_requests_total', { status: '400' })).toBe(6);
    expect(sum('ncod_serve_rows_total')).toBe(sentRows);
    expect(texts.map((t) => metricSum(t, 'ncod_serve_requests_total'))).toEqual([16, 15]);
  });

  it('the drift gauges follow the decisions of a calibrated model', async () => {
    const calibration = { tpr: 0.9, threshold: -2, n: 100 };
    const { url } = await start({ models: { det: fakeDetector({ dim, calibration }) }, driftWindow: 50 });
    // Rows of 1s score −4 + 1/3 < −2: every one is OOD, far above the calibrated 10 %.
    const ones = new Float32Array(60 * dim).fill(1);
    expect((await post(url, 'det', body(ones))).status).toBe(200);
    const text = await metricsOf(url);
    expect(metricSum(text, 'ncod_serve_decisions_total', { model: 'det' })).toBe(60);
    expect(metricSum(text, 'ncod_serve_ood_decisions_total', { model: 'det' })).toBe(60);
    expect(metricSum(text, 'ncod_serve_window_decisions', { model: 'det' })).toBe(50);
    expect(metricSum(text, 'ncod_serve_ood_rate', { model: 'det' })).toBe(1);
    expect(metricSum(text, 'ncod_serve_drift_p_value', { model: 'det' })).toBeCloseTo(0.1 ** 50, 60);
  });

  it("Python's requests, unchanged, against the server (JSON and binary)", async () => {
    const { url } = await start({ models: { det: fakeDetector({ dim, calibration: { tpr: 0.95, threshold: -3, n: 10 } }) } });
    const rows = rowsOf(2, 5);
    const script = `
import json, struct, sys, requests
url = sys.argv[1]
assert requests.get(url + "/v2/health/ready").status_code == 200
meta = requests.get(url + "/v2/models/det").json()
rows = json.loads(sys.argv[2])
r = requests.post(url + "/v2/models/det/infer", json={"id": "py", "inputs": [{"name": "features", "datatype": "FP32", "shape": [2, 4], "data": rows}]})
r.raise_for_status()
out = r.json()
raw = struct.pack("<8f", *rows)
header = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [2, 4], "parameters": {"binary_data_size": len(raw)}}],
                     "outputs": [{"name": "ood_score", "parameters": {"binary_data": True}}]}).encode()
b = requests.post(url + "/v2/models/det/infer", data=header + raw, headers={"Inference-Header-Content-Length": str(len(header))})
n = int(b.headers["Inference-Header-Content-Length"])
scores = list(struct.unpack("<2d", b.content[n:]))
# requests' json= refuses NaN; json.dumps writes it as a bare NaN, which the server names.
nan = json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [1, float("nan"), 2, 3]}]})
bad = requests.post(url + "/v2/models/det/infer", data=nan, headers={"Content-Type": "application/json"})
print(json.dumps({"meta": meta["inputs"], "id": out["id"], "json": out["outputs"][0]["data"], "binary": scores, "bad": [bad.status_code, bad.json()["error"][:14]]}))
`;
    // Asynchronously: the server runs in this process and must keep answering while Python waits.
    const r = await promisify(execFile)(findPython(['requests']), ['-c', script, url, JSON.stringify(Array.from(rows))], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout);
    const expected = Array.from(fakeScore(rows, dim));
    expect(got).toEqual({ meta: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }], id: 'py', json: expected, binary: expected, bad: [400, 'ERR_NOT_FINITE'] });
  });
});
