// Every detector method round-trips through save → load → the server: one server holds all of them (and a logit
// detector saved without a head, which takes `logits`), and each model's HTTP scores equal its in-process scores bit
// for bit.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer, detectors, METHODS, type LoadedDetector, type NcodServer } from '../../lib/index.js';
import { fitMethod } from '../../lib/ood/fit-method.js';
import { decodeResponse, encodeBinaryRequest } from '../../lib/serve/client.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const [dim, C] = [12, 4];
const train = clusters(300, dim, C, 1);
const queries = clusters(37, dim, C, 2, { shift: 0.5 }).features;
const normal = gaussian(rng(3));
const head = { weights: Float32Array.from({ length: C * dim }, () => normal()), bias: Float32Array.from({ length: C }, () => normal()), numClasses: C };
const logits = Float32Array.from({ length: 37 * C }, () => 2 * normal());
const names = { features: 'features', labels: 'labels', head: 'head', principalDim: 'principalDim', logitWidth: 'logitWidth' };

const loaded: Record<string, LoadedDetector> = {};
// Model names are URL path segments (letters, digits, _ . -): 'mahalanobis++' is served as 'mahalanobis-pp'.
const modelName = (method: string) => method.replace(/\+\+$/, '-pp');
let server: NcodServer;
let url: string;

beforeAll(async () => {
  const dir = tempDir('ncod-serve-all-');
  const data = { features: train.features, dim, labels: train.labels, numClasses: C, head };
  for (const method of METHODS) {
    const det = await fitMethod(method, data, { principalDim: 5, k: 7 }, names);
    await det.save(join(dir, `${method}.ncod`));
    loaded[modelName(method)] = await detectors.load(join(dir, `${method}.ncod`));
  }
  await (await detectors.energy().fit({ numClasses: C })).save(join(dir, 'energy-logits.ncod'));
  loaded['energy-logits'] = await detectors.load(join(dir, 'energy-logits.ncod'));
  server = createServer({ models: loaded, maxDelayMs: 1 });
  url = await server.listen({ port: 0 });
});
afterAll(async () => {
  await server?.close();
  for (const det of Object.values(loaded)) det.dispose();
});

const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), String);

describe('every detector through the server', () => {
  it.each([...METHODS.map(modelName), 'energy-logits'])('%s: HTTP scores equal the loaded detector in-process, bit for bit', async (model) => {
    const det = loaded[model];
    const rows = det.input.name === 'logits' ? logits : queries;
    const n = rows.length / det.input.dim;
    const req = encodeBinaryRequest({ name: det.input.name, rows, n, dim: det.input.dim });
    const r = await fetch(`${url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(req.headerLength), 'content-type': 'application/octet-stream' },
      body: new Uint8Array(req.body),
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const out = decodeResponse(Buffer.from(await r.arrayBuffer()), Number(r.headers.get('inference-header-content-length'))).outputs;
    expect(bits(out.ood_score.data as Float64Array)).toEqual(bits(await det.score(rows)));
  });
});
