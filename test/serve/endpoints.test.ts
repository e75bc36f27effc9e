// Every endpoint of the app, through fastify's inject (no port): metadata, health, JSON and binary inference, FP16 and
// FP64 inputs, output selection, and every kind of bad request answering 400/404/413 with the OIP error body.
import { afterAll, describe, expect, it } from 'vitest';

import { version } from '../../lib/index.js';
import { decodeResponse, encodeBinaryRequest } from '../../lib/serve/client.js';
import { createServer } from '../../lib/serve/server.js';
import { fakeDetector, fakeScore } from './fake-detector.js';

const dim = 4;
const calibration = { tpr: 0.95, threshold: -3, n: 200 };
const calibrated = fakeDetector({ dim, calibration, method: 'mahalanobis' });
const plain = fakeDetector({ dim, method: 'knn' });
const logitsOnly = fakeDetector({ dim: 3, input: 'logits', method: 'energy' });
const server = createServer({ models: { det: calibrated, plain, energy: logitsOnly }, bodyLimit: 100_000 });
const app = server.app;
afterAll(() => server.close());

const rows = Float32Array.from({ length: 3 * dim }, (_, i) => Math.fround((i - 5) * 0.37));
const nested = [0, 1, 2].map((r) => Array.from(rows.subarray(r * dim, (r + 1) * dim)));

function infer(model: string, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
}

async function expectError(response: Awaited<ReturnType<typeof infer>>, status: number, code: string, message?: RegExp) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/application\/json/);
  const body = response.json() as { error: string };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(new RegExp(`^${code}: `));
  if (message) expect(body.error).toMatch(message);
}

describe('metadata and health', () => {
  it('GET /v2/health/live, /v2/health/ready, /v2', async () => {
    expect((await app.inject('/v2/health/live')).json()).toEqual({ live: true });
    const ready = await app.inject('/v2/health/ready');
    expect([ready.statusCode, ready.json()]).toEqual([200, { ready: true }]);
    const meta = await app.inject('/v2');
    expect(meta.json()).toEqual({ name: 'ncod', version, extensions: ['binary_tensor_data'] });
  });

  it('GET /v2/models/{name}: inputs and outputs, with and without a calibration', async () => {
    const det = (await app.inject('/v2/models/det')).json();
    expect(det).toMatchObject({
      name: 'det',
      versions: ['1'],
      platform: 'ncod',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, dim] }],
      outputs: [
        { name: 'ood_score', datatype: 'FP64', shape: [-1] },
        { name: 'is_ood', datatype: 'BOOL', shape: [-1] },
        { name: 'p_value', datatype: 'FP64', shape: [-1] },
      ],
    });
    expect(det.parameters).toMatchObject({ method: 'mahalanobis', calibration });
    const energy = (await app.inject('/v2/models/energy/versions/1')).json();
    expect(energy.inputs).toEqual([{ name: 'logits', datatype: 'FP32', shape: [-1, 3] }]);
    expect(energy.outputs).toEqual([{ name: 'ood_score', datatype: 'FP64', shape: [-1] }]);
  });

  it('GET /v2/models/{name}/ready, and 404 for unknown models, versions and paths', async () => {
    const ready = await app.inject('/v2/models/plain/ready');
    expect([ready.statusCode, ready.json()]).toEqual([200, { name: 'plain', ready: true }]);
    await expectError(await app.inject('/v2/models/nope'), 404, 'ERR_NOT_FOUND', /expected one of det, plain, energy, got "nope"/);
    await expectError(await app.inject('/v2/models/det/versions/2/ready'), 404, 'ERR_NOT_FOUND', /version/);
    await expectError(await app.inject('/v3'), 404, 'ERR_NOT_FOUND');
    await expectError(await infer('nope', { inputs: [] }), 404, 'ERR_NOT_FOUND');
  });
});

describe('POST /v2/models/{name}/infer', () => {
  const expected = fakeScore(rows, dim);

  it('JSON, flat data: every output, id echoed, scores as exact doubles', async () => {
    const r = await infer('det', { id: 'req-7', inputs: [{ name: 'features', datatype: 'FP32', shape: [3, dim], data: Array.from(rows) }] });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.model_name).toBe('det');
    expect(body.id).toBe('req-7');
    expect(body.outputs.map((o: { name: string }) => o.name)).toEqual(['ood_score', 'is_ood', 'p_value']);
    expect(body.outputs[0]).toEqual({ name: 'ood_score', datatype: 'FP64', shape: [3], data: Array.from(expected) });
    expect(body.outputs[1].data).toEqual(Array.from(expected, (s) => s < calibration.threshold));
    expect(body.outputs[1].datatype).toBe('BOOL');
  });

  it('JSON, nested data, FP64 input (rounded to float32), a subset of outputs in the order asked', async () => {
    const r = await infer('det', {
      inputs: [{ name: 'features', datatype: 'FP64', shape: [3, dim], data: nested }],
      outputs: [{ name: 'p_value' }, { name: 'ood_score' }],
    });
    const body = r.json();
    expect(body.outputs.map((o: { name: string }) => o.name)).toEqual(['p_value', 'ood_score']);
    expect(body.outputs[1].data).toEqual(Array.from(expected));
    expect(body.id).toBeUndefined();
  });

  it('binary in and out: FP64 scores bit for bit, BOOL as bytes, the header length set', async () => {
    const req = encodeBinaryRequest({ name: 'features', rows, n: 3, dim }, { id: 'b1' });
    const r = await infer('det', req.body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(req.headerLength) });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    const length = Number(r.headers['inference-header-content-length']);
    const { header, outputs } = decodeResponse(r.rawPayload, length);
    expect(header.id).toBe('b1');
    expect(outputs.ood_score.data).toEqual(expected);
    expect(Array.from(outputs.is_ood.data as Uint8Array)).toEqual(Array.from(expected, (s) => (s < calibration.threshold ? 1 : 0)));
    expect((outputs.p_value.data as Float64Array).length).toBe(3);
    expect(r.rawPayload.length).toBe(length + 3 * 8 + 3 + 3 * 8);
  });

  it('binary input with JSON output (no binary_data asked), and mixed: one output binary', async () => {
    const req = encodeBinaryRequest({ name: 'features', rows, n: 3, dim }, { binary: false });
    const r = await infer('plain', req.body, { 'inference-header-content-length': String(req.headerLength) });
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.headers['inference-header-content-length']).toBeUndefined();
    expect(r.json().outputs).toEqual([{ name: 'ood_score', datatype: 'FP64', shape: [3], data: Array.from(expected) }]);
    const mixed = await infer('det', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [3, dim], data: Array.from(rows) }],
      outputs: [{ name: 'ood_score', parameters: { binary_data: true } }, { name: 'is_ood' }],
    });
    const decoded = decodeResponse(mixed.rawPayload, Number(mixed.headers['inference-header-content-length']));
    expect(decoded.outputs.ood_score.data).toEqual(expected);
    expect(decoded.outputs.is_ood.data).toEqual(Array.from(expected, (s) => s < calibration.threshold));
  });

  it('FP16: binary half floats and JSON numbers give the same scores as the float32 of those halves', async () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8400, 0x2e66, 0x0000]); // 2 rows
    const asFloat = new Float32Array([1, -2, 0.333251953125, 2 ** -24, 65504, -(2 ** -14), 0.0999755859375, 0]);
    const req = encodeBinaryRequest({ name: 'features', rows: halves, n: 2, dim });
    const r = await infer('plain', req.body, { 'inference-header-content-length': String(req.headerLength) });
    const { outputs } = decodeResponse(r.rawPayload, Number(r.headers['inference-header-content-length']));
    expect(outputs.ood_score.data).toEqual(fakeScore(asFloat, dim));
    const json = await infer('plain', { inputs: [{ name: 'features', datatype: 'FP16', shape: [2, dim], data: [1, -2, 1 / 3, 2 ** -24, 65504, -(2 ** -14), 0.1, 0] }] });
    expect(json.json().outputs[0].data).toEqual(Array.from(fakeScore(asFloat, dim)));
  });

  it('a logit-only detector takes its input named logits', async () => {
    const r = await infer('energy', { inputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    expect(r.json().outputs[0].data).toEqual([-14 + 1 / 3]);
  });
});

describe('bad requests answer 400 with the OIP error body, and the server keeps serving', () => {
  const good = (data: unknown = Array.from(rows), extra: Record<string, unknown> = {}) => ({
    inputs: [{ name: 'features', datatype: 'FP32', shape: [3, dim], data, ...extra }],
  });
  const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [3, dim], data: Array.from(rows), ...over }] });

  it('bad JSON, not an object, NaN written by Python, no inputs, two inputs, a wrong input name', async () => {
    await expectError(await infer('det', '{"inputs": ['), 400, 'ERR_INVALID_ARGUMENT', /invalid JSON/);
    await expectError(await infer('det', '[1, 2]'), 400, 'ERR_INVALID_ARGUMENT', /expected a JSON object, got Array\(2\)/);
    await expectError(await infer('det', '{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [1, NaN, 2, 3]}]}'), 400, 'ERR_NOT_FINITE');
    await expectError(await infer('det', {}), 400, 'ERR_INVALID_ARGUMENT', /inputs: expected one input named "features", got undefined/);
    await expectError(await infer('det', { inputs: [good().inputs[0], good().inputs[0]] }), 400, 'ERR_INVALID_ARGUMENT', /got 2 inputs/);
    await expectError(await infer('det', input({ name: 'logits' })), 400, 'ERR_INVALID_ARGUMENT', /expected "features", got "logits"/);
    await expectError(await infer('det', ''), 400, 'ERR_INVALID_ARGUMENT');
  });

  it('wrong shape, wrong dtype, wrong data', async () => {
    await expectError(await infer('det', input({ shape: [3, 5] })), 400, 'ERR_SHAPE', /expected \[B, 4\], got \[3,5\]/);
    await expectError(await infer('det', input({ shape: [12] })), 400, 'ERR_SHAPE');
    await expectError(await infer('det', input({ shape: [0, 4], data: [] })), 400, 'ERR_SHAPE', /at least one row/);
    await expectError(await infer('det', input({ shape: [2, 4] })), 400, 'ERR_SHAPE', /expected 8 numbers .*got 12/);
    await expectError(await infer('det', input({ datatype: 'INT32' })), 400, 'ERR_DTYPE', /expected FP32, FP16, FP64, got "INT32"/);
    await expectError(await infer('det', input({ data: [...Array.from(rows).slice(1), 'x'] })), 400, 'ERR_DTYPE', /expected numbers, got "x"/);
    await expectError(await infer('det', input({ data: 7 })), 400, 'ERR_INVALID_ARGUMENT');
    await expectError(await infer('det', input({ datatype: 'FP64', data: [1e300, ...Array.from(rows).slice(1)] })), 400, 'ERR_NOT_FINITE', /beyond float32's range/);
    await expectError(await infer('det', input({ datatype: 'FP16', data: [1e5, ...Array.from(rows).slice(1)] })), 400, 'ERR_NOT_FINITE');
    await expectError(await infer('det', { ...good(), id: 5 }), 400, 'ERR_INVALID_ARGUMENT', /id: expected a string/);
  });

  it('unknown or repeated outputs, and decisions from an uncalibrated detector', async () => {
    await expectError(await infer('det', { ...good(), outputs: [{ name: 'nope' }] }), 400, 'ERR_INVALID_ARGUMENT', /outputs/);
    await expectError(await infer('det', { ...good(), outputs: [{ name: 'ood_score' }, { name: 'ood_score' }] }), 400, 'ERR_INVALID_ARGUMENT');
    await expectError(await infer('plain', { ...good(), outputs: [{ name: 'is_ood' }] }), 400, 'ERR_INVALID_ARGUMENT', /need a calibrated detector/);
  });

  it('binary: NaN and Inf, short body, extra bytes, wrong binary_data_size, bad header length', async () => {
    const headers = (n: number) => ({ 'inference-header-content-length': String(n) });
    for (const bad of [NaN, Infinity, -Infinity]) {
      const withBad = rows.slice();
      withBad[6] = bad;
      const req = encodeBinaryRequest({ name: 'features', rows: withBad, n: 3, dim });
      await expectError(await infer('det', req.body, headers(req.headerLength)), 400, 'ERR_NOT_FINITE', /at row 1, column 2/);
    }
    const req = encodeBinaryRequest({ name: 'features', rows, n: 3, dim });
    await expectError(await infer('det', req.body.subarray(0, req.body.length - 5), headers(req.headerLength)), 400, 'ERR_SHAPE', /expected 48 bytes after the JSON header, got 43/);
    await expectError(await infer('det', Buffer.concat([req.body, Buffer.alloc(4)]), headers(req.headerLength)), 400, 'ERR_SHAPE', /got 52/);
    await expectError(await infer('det', req.body, headers(req.body.length + 1)), 400, 'ERR_INVALID_ARGUMENT', /Inference-Header-Content-Length/);
    await expectError(await infer('det', req.body, headers(10)), 400, 'ERR_INVALID_ARGUMENT', /invalid JSON/);
    const wrongSize = Buffer.from(JSON.stringify(input({ data: undefined, parameters: { binary_data_size: 40 } })));
    await expectError(await infer('det', Buffer.concat([wrongSize, Buffer.alloc(40)]), headers(wrongSize.length)), 400, 'ERR_SHAPE', /binary_data_size: expected 48/);
    await expectError(await infer('det', Buffer.concat([Buffer.from(JSON.stringify(good())), Buffer.alloc(8)]), headers(JSON.stringify(good()).length)), 400, 'ERR_INVALID_ARGUMENT', /no bytes after the JSON/);
  });

  it('a body over the limit gets 413 ERR_TOO_LARGE', async () => {
    await expectError(await infer('det', JSON.stringify(good(new Array(30_000).fill(0.125)))), 413, 'ERR_TOO_LARGE');
  });

  it('after all that, a good request still works', async () => {
    const r = await infer('det', good());
    expect(r.statusCode).toBe(200);
  });
});

describe('/metrics', () => {
  it('counts requests by model and status, in the Prometheus text format', async () => {
    const r = await app.inject('/metrics');
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    const text = r.body;
    expect(text).toMatch(/ncod_serve_requests_total\{model="det",status="200"\} \d+/);
    expect(text).toMatch(/ncod_serve_requests_total\{model="det",status="400"\} \d+/);
    expect(text).toMatch(/ncod_serve_requests_total\{model="det",status="413"\} 1/);
    expect(text).toMatch(/ncod_serve_requests_total\{model="_unknown",status="404"\} 1/);
    expect(text).toMatch(/ncod_serve_expected_ood_rate\{model="det"\} 0\.05/);
    expect(text).toContain('ncod_serve_drift_p_value{model="det"}');
    expect(text).not.toContain('ncod_serve_drift_p_value{model="plain"}');
    expect(text).toMatch(/ncod_serve_rows_total\{model="plain"\} \d+/);
    expect(text).toContain('ncod_process_cpu_seconds_total');
  });
});
