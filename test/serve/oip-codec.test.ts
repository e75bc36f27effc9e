// The hand-written response encoder against JSON.stringify of the same object tree (the protocol's JSON, as the
// encoder wrote it before): same text for awkward doubles, non-finite scores, ids that need escaping, every output
// subset and encoding, and binary outputs laid out after the header in the order asked.
import { describe, expect, it } from 'vitest';

import { decodeResponse } from '../../lib/serve/client.js';
import { encodeInferResponse, type InferRequest, type OutputName } from '../../lib/serve/oip-codec.js';
import type { BatchResult } from '../../lib/serve/types.js';

const awkward = [1 / 3, -0, 0, 5e-324, -1.7976931348623157e308, 1e21, 1e-7, 123456789.12345679, NaN, Infinity, -Infinity, -2.5];
const result: BatchResult = {
  score: Float64Array.from(awkward),
  pValue: Float64Array.from(awkward, (_, i) => (i + 1) / 201),
  isOOD: Uint8Array.from(awkward, (_, i) => i % 3 === 0 ? 1 : 0),
};
const types = { ood_score: 'FP64', is_ood: 'BOOL', p_value: 'FP64' };

function reference(model: string, request: InferRequest): unknown {
  const values = (name: OutputName) => (name === 'ood_score' ? result.score : name === 'p_value' ? result.pValue! : result.isOOD!);
  const outputs = request.outputs.map(({ name, binary }) => {
    const v = values(name);
    const base = { name, datatype: types[name], shape: [v.length] };
    if (binary) return { ...base, parameters: { binary_data_size: v.byteLength } };
    return { ...base, data: name === 'is_ood' ? Array.from(v, (x) => x === 1) : Array.from(v) };
  });
  return JSON.stringify({ model_name: model, model_version: '1', ...(request.id !== undefined && { id: request.id }), outputs });
}

const request = (outputs: InferRequest['outputs'], id?: string): InferRequest => ({ id, rows: new Float32Array(0), n: awkward.length, outputs });

describe('encodeInferResponse', () => {
  it.each([
    ['every output as JSON, no id', request([{ name: 'ood_score', binary: false }, { name: 'is_ood', binary: false }, { name: 'p_value', binary: false }])],
    ['a subset in another order, with an id that needs escaping', request([{ name: 'p_value', binary: false }, { name: 'ood_score', binary: false }], 'a "quoted"\\id\n€ \u0001')],
    ['the score alone', request([{ name: 'ood_score', binary: false }], '')],
  ])('%s: the text JSON.stringify writes', (_what, r) => {
    const encoded = encodeInferResponse('m.name-1', r, result);
    expect(encoded.contentType).toBe('application/json');
    expect(encoded.headerLength).toBeUndefined();
    expect(encoded.body).toBe(reference('m.name-1', r));
  });

  it('binary outputs: the header JSON.stringify writes, then the raw bytes in the order asked', () => {
    const r = request([{ name: 'is_ood', binary: true }, { name: 'ood_score', binary: false }, { name: 'p_value', binary: true }], 'é');
    const encoded = encodeInferResponse('maha', r, result);
    expect(encoded.contentType).toBe('application/octet-stream');
    const body = encoded.body as Buffer;
    const header = reference('maha', r) as string;
    expect(encoded.headerLength).toBe(Buffer.byteLength(header));
    expect(body.toString('utf8', 0, encoded.headerLength)).toBe(header);
    expect(body.length).toBe(Buffer.byteLength(header) + awkward.length * (1 + 8));
    const { outputs } = decodeResponse(body, encoded.headerLength);
    expect(Array.from(outputs.is_ood.data as Uint8Array)).toEqual(Array.from(result.isOOD!));
    expect(Array.from(outputs.p_value.data as Float64Array)).toEqual(Array.from(result.pValue!));
    expect(outputs.ood_score.data).toEqual(JSON.parse(JSON.stringify(Array.from(result.score))));
  });

  it('a slice of a batch result (an offset view) writes only its own rows', () => {
    const slice: BatchResult = { score: result.score.subarray(3, 5) };
    const encoded = encodeInferResponse('knn', { ...request([{ name: 'ood_score', binary: true }]), n: 2 }, slice);
    const { outputs } = decodeResponse(encoded.body as Buffer, encoded.headerLength);
    expect(Array.from(outputs.ood_score.data as Float64Array)).toEqual([awkward[3], awkward[4]]);
  });
});
