// Saved detectors served over loopback: scores over HTTP equal in-process det.score on the same rows bit for bit,
// through binary FP64 outputs and through JSON numbers; decisions equal det.decide; a damaged file is refused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer, detectors, type NcodServer } from '../../lib/index.js';
import { decodeResponse, encodeBinaryRequest } from '../../lib/serve/client.js';
import type { ServableDetector } from '../../lib/serve/types.js';
import { saveDetectors, type SavedDetectors } from './saved-detectors.js';

let saved: SavedDetectors;
let server: NcodServer;
let url: string;
const loaded: Record<string, ServableDetector> = {};

beforeAll(async () => {
  saved = await saveDetectors();
  loaded.maha = await detectors.load(saved.maha);
  loaded.knn = await detectors.load(saved.knn);
  server = createServer({ models: loaded, maxDelayMs: 2 });
  url = await server.listen({ port: 0 });
});
afterAll(async () => {
  await server?.close();
  for (const det of Object.values(loaded)) det.dispose();
});

const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), String);

async function inferBinary(model: string, rows: Float32Array, n: number) {
  const req = encodeBinaryRequest({ name: 'features', rows, n, dim: saved.dim });
  const r = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'inference-header-content-length': String(req.headerLength), 'content-type': 'application/octet-stream' },
    body: new Uint8Array(req.body),
  });
  expect(r.status).toBe(200);
  return decodeResponse(Buffer.from(await r.arrayBuffer()), Number(r.headers.get('inference-header-content-length'))).outputs;
}

describe('saved detectors over HTTP', () => {
  it('metadata comes from the files: method, input width, calibration', async () => {
    const maha = await (await fetch(`${url}/v2/models/maha`)).json();
    expect(maha.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, saved.dim] }]);
    expect(maha.outputs.map((o: { name: string }) => o.name)).toEqual(['ood_score', 'is_ood', 'p_value']);
    expect(maha.parameters.method).toBe('mahalanobis');
    expect(maha.parameters.calibration).toMatchObject({ tpr: 0.95, n: 200 });
    const knn = await (await fetch(`${url}/v2/models/knn`)).json();
    expect(knn.outputs.map((o: { name: string }) => o.name)).toEqual(['ood_score']);
  });

  for (const model of ['maha', 'knn']) {
    it(`${model}: binary FP64 scores equal det.score bit for bit, also when batched with other requests`, async () => {
      const n = saved.test.length / saved.dim;
      const expected = await loaded[model].score(saved.test);
      const whole = await inferBinary(model, saved.test, n);
      expect(bits(whole.ood_score.data as Float64Array)).toEqual(bits(expected));
      // The same rows split over concurrent requests (coalesced into batches) give the same bits.
      const parts = await Promise.all(
        Array.from({ length: 8 }, (_, k) => inferBinary(model, saved.test.subarray(k * 8 * saved.dim, (k + 1) * 8 * saved.dim), 8)),
      );
      const joined = new Float64Array(n);
      parts.forEach((p, k) => joined.set(p.ood_score.data as Float64Array, 8 * k));
      expect(bits(joined)).toEqual(bits(expected));
    });

    it(`${model}: JSON numbers round-trip the doubles exactly`, async () => {
      const expected = await loaded[model].score(saved.test);
      const r = await fetch(`${url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [expected.length, saved.dim], data: Array.from(saved.test) }] }),
      });
      const scores = Float64Array.from((await r.json()).outputs[0].data as number[]);
      expect(bits(scores)).toEqual(bits(expected));
    });
  }

  it('maha: is_ood and p_value equal det.decide, and some rows are flagged', async () => {
    const n = saved.test.length / saved.dim;
    const expected = await loaded.maha.decide(saved.test);
    const out = await inferBinary('maha', saved.test, n);
    expect(Array.from(out.is_ood.data as Uint8Array)).toEqual(Array.from(expected.isOOD));
    expect(bits(out.p_value.data as Float64Array)).toEqual(bits(expected.pValue));
    const flagged = expected.isOOD.reduce((s, v) => s + v, 0);
    expect(flagged).toBeGreaterThan(10);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/ncod_serve_ood_decisions_total\{model="maha"\} [1-9]/);
  });

  it('a damaged file is refused with ERR_FILE_FORMAT', async () => {
    const bad = join(saved.dir, 'bad.ncod');
    writeFileSync(bad, 'not a detector');
    await expect(detectors.load(bad)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  });
});
