// Open Inference Protocol v2 (KServe "predict-api/v2", Triton's HTTP/REST) inference requests and responses, JSON and
// with the binary tensor data extension: decoding turns a body into validated float32 rows, or throws an NcodError
// that answers this one request with 400. Everything is checked here, per request, before any batching, so a bad
// request can never spoil the batch it would have joined.
import { endianness } from 'node:os';

import { describe, fail, NcodError } from '../errors.js';
import { halfBytesToFloat32, roundToHalf } from '../data/half.js';
import type { BatchResult } from './types.js';

/** The outputs a detector offers: the score always; the decision and its p-value only with a calibration. */
export const OUTPUT_TYPES = { ood_score: 'FP64', is_ood: 'BOOL', p_value: 'FP64' } as const;
export type OutputName = keyof typeof OUTPUT_TYPES;

export const INPUT_TYPES = { FP32: 4, FP16: 2, FP64: 8 } as const;
type InputType = keyof typeof INPUT_TYPES;

const LITTLE_ENDIAN = endianness() === 'LE';

export interface ModelSignature {
  input: { name: string; dim: number };
  calibrated: boolean;
}

export interface RequestedOutput {
  name: OutputName;
  binary: boolean;
}

export interface InferRequest {
  /** The request's `id`, echoed in the response. */
  id: string | undefined;
  /** B×dim float32, row-major, all finite. */
  rows: Float32Array;
  n: number;
  outputs: RequestedOutput[];
}

export function outputNames(calibrated: boolean): OutputName[] {
  return calibrated ? ['ood_score', 'is_ood', 'p_value'] : ['ood_score'];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonHeader(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Python's json.dumps writes NaN and Infinity as bare words, which are not JSON: say what is wrong with the data.
    if (/(^|[\s,[:])-?(NaN|Infinity)\s*[,\]}]/.test(text)) {
      fail('ERR_NOT_FINITE', 'request JSON', 'finite numbers (JSON has no NaN or Infinity)', 'NaN or Infinity');
    }
    fail('ERR_INVALID_ARGUMENT', 'request body', 'a JSON inference request', `invalid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) fail('ERR_INVALID_ARGUMENT', 'request body', 'a JSON object', describe(value));
  return value;
}

/** Splits the body into the JSON header and the binary tensor bytes after it (none without the extension's header). */
function splitBody(body: Buffer, headerLength: string | undefined): { header: Record<string, unknown>; binary: Buffer } {
  if (headerLength === undefined) return { header: parseJsonHeader(body.toString('utf8')), binary: body.subarray(body.length) };
  const n = /^\s*\d+\s*$/.test(headerLength) ? Number(headerLength) : NaN;
  if (!Number.isSafeInteger(n) || n > body.length) {
    fail('ERR_INVALID_ARGUMENT', 'Inference-Header-Content-Length', `an integer in [0, ${body.length}] (the body length)`, describe(headerLength));
  }
  return { header: parseJsonHeader(body.toString('utf8', 0, n)), binary: body.subarray(n) };
}

/**
 * A JSON tensor's `data`, flat or nested to any depth, as `count` float32 values: one pass that checks the element
 * types, counts, and converts (FP16 numbers round to the nearest half first). Typed-array stores round a double to
 * float32 exactly as the detectors expect. One pass matters: a 1024×512 request is half a million numbers.
 */
function fromJson(data: unknown, datatype: InputType, count: number, what: string): Float32Array {
  if (!Array.isArray(data)) fail('ERR_INVALID_ARGUMENT', `${what} data`, 'an array of numbers (flat or nested)', describe(data));
  const out = new Float32Array(count);
  const half = datatype === 'FP16';
  let k = 0;
  const put = (items: unknown[]): void => {
    for (let i = 0; i < items.length; i++) {
      const v = items[i];
      if (typeof v === 'number') {
        if (k < count) out[k] = half ? roundToHalf(v) : v;
        k++;
      } else if (Array.isArray(v)) put(v);
      else fail('ERR_DTYPE', `${what} data`, 'numbers', describe(v));
    }
  };
  put(data);
  if (k !== count) fail('ERR_SHAPE', `${what} data`, `${count} numbers (the shape's product)`, `${k}`);
  return out;
}

function fromBinary(bytes: Buffer, datatype: InputType, count: number): Float32Array {
  if (datatype === 'FP16') return halfBytesToFloat32(bytes, 0, count);
  if (LITTLE_ENDIAN) {
    // Copying into a fresh array also aligns it: the bytes sit at any offset in the body.
    const aligned = new Uint8Array(count * INPUT_TYPES[datatype]);
    aligned.set(bytes);
    return datatype === 'FP32' ? new Float32Array(aligned.buffer) : Float32Array.from(new Float64Array(aligned.buffer));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = datatype === 'FP32' ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
  return out;
}

function checkFinite(rows: Float32Array, dim: number, what: string, datatype: InputType): void {
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i];
    if (v - v !== 0) {
      const beyond = datatype === 'FP64' && v === v ? " (beyond float32's range)" : '';
      fail('ERR_NOT_FINITE', what, 'finite values', `${v}${beyond} at row ${Math.floor(i / dim)}, column ${i % dim}`);
    }
  }
}

function parseShape(shape: unknown, dim: number, what: string): number {
  const ok = Array.isArray(shape) && shape.length === 2 && shape.every((s) => Number.isSafeInteger(s) && s >= 0);
  if (!ok || shape[1] !== dim) fail('ERR_SHAPE', `${what} shape`, `[B, ${dim}]`, Array.isArray(shape) ? JSON.stringify(shape) : describe(shape));
  if (shape[0] < 1) fail('ERR_SHAPE', `${what} shape`, 'at least one row', JSON.stringify(shape));
  return shape[0];
}

function parseOutputs(header: Record<string, unknown>, calibrated: boolean): RequestedOutput[] {
  const parameters = header.parameters;
  if (parameters !== undefined && !isObject(parameters)) fail('ERR_INVALID_ARGUMENT', 'parameters', 'an object', describe(parameters));
  const allBinary = parameters?.binary_data_output === true;
  const offered = outputNames(calibrated);
  if (header.outputs === undefined) return offered.map((name) => ({ name, binary: allBinary }));
  if (!Array.isArray(header.outputs) || header.outputs.length === 0) {
    fail('ERR_INVALID_ARGUMENT', 'outputs', 'a non-empty array of {name}', describe(header.outputs));
  }
  const seen = new Set<string>();
  return header.outputs.map((o: unknown) => {
    const name = isObject(o) ? o.name : undefined;
    if (typeof name !== 'string' || !(offered as string[]).includes(name) || seen.has(name)) {
      const why = calibrated ? '' : ' (is_ood and p_value need a calibrated detector)';
      fail('ERR_INVALID_ARGUMENT', 'outputs', `distinct names among ${offered.join(', ')}${why}`, describe(name ?? o));
    }
    seen.add(name);
    const p = (o as Record<string, unknown>).parameters;
    return { name: name as OutputName, binary: isObject(p) && p.binary_data !== undefined ? p.binary_data === true : allBinary };
  });
}

/**
 * One inference request for a model with `signature`: `body` is the whole HTTP body, `headerLength` the
 * Inference-Header-Content-Length header (present when binary tensors follow the JSON).
 */
export function decodeInferRequest(body: Buffer, headerLength: string | undefined, signature: ModelSignature): InferRequest {
  const { header, binary } = splitBody(body, headerLength);
  const { name, dim } = signature.input;
  if (header.id !== undefined && typeof header.id !== 'string') fail('ERR_INVALID_ARGUMENT', 'id', 'a string', describe(header.id));
  const inputs = header.inputs;
  if (!Array.isArray(inputs) || inputs.length !== 1 || !isObject(inputs[0])) {
    fail('ERR_INVALID_ARGUMENT', 'inputs', `one input named "${name}"`, Array.isArray(inputs) ? `${inputs.length} inputs` : describe(inputs));
  }
  const input = inputs[0];
  if (input.name !== name) fail('ERR_INVALID_ARGUMENT', 'inputs[0].name', `"${name}"`, describe(input.name));
  const what = `input ${name}`;
  const datatype = input.datatype;
  if (typeof datatype !== 'string' || !Object.hasOwn(INPUT_TYPES, datatype)) {
    fail('ERR_DTYPE', `${what} datatype`, Object.keys(INPUT_TYPES).join(', '), describe(datatype));
  }
  const type = datatype as InputType;
  const n = parseShape(input.shape, dim, what);
  const count = n * dim;
  const parameters = input.parameters;
  const size = isObject(parameters) ? parameters.binary_data_size : undefined;
  let rows: Float32Array;
  if (size === undefined) {
    if (binary.length > 0) fail('ERR_INVALID_ARGUMENT', 'binary body', 'no bytes after the JSON (no input has binary_data_size)', `${binary.length} bytes`);
    rows = fromJson(input.data, type, count, what);
  } else {
    const expected = count * INPUT_TYPES[type];
    if (size !== expected) fail('ERR_SHAPE', `${what} binary_data_size`, `${expected} (${n}×${dim} ${type})`, describe(size));
    if (binary.length !== expected) fail('ERR_SHAPE', `${what} binary data`, `${expected} bytes after the JSON header`, `${binary.length}`);
    if (input.data !== undefined) fail('ERR_INVALID_ARGUMENT', `${what} data`, 'none when binary_data_size is given', 'both');
    rows = fromBinary(binary, type, count);
  }
  checkFinite(rows, dim, what, type);
  return { id: header.id, rows, n, outputs: parseOutputs(header, signature.calibrated) };
}

export interface EncodedResponse {
  body: string | Buffer;
  contentType: string;
  /** Set when binary outputs follow the JSON: the value of the Inference-Header-Content-Length response header. */
  headerLength?: number;
}

function bytesOf(values: Float64Array | Uint8Array): Buffer {
  if (values instanceof Uint8Array || LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.byteLength);
  for (let i = 0; i < values.length; i++) out.writeDoubleLE(values[i], 8 * i);
  return out;
}

function column(result: BatchResult, name: OutputName): Float64Array | Uint8Array {
  const values = name === 'ood_score' ? result.score : name === 'p_value' ? result.pValue : result.isOOD;
  if (!values) throw new NcodError('ERR_INTERNAL', `output ${name}: expected the detector to produce it, got none`);
  return values;
}

/** A JSON array of the values, as JSON.stringify writes them (shortest round-trip doubles, null for non-finite). */
function jsonNumbers(values: Float64Array): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += (i === 0 ? '' : ',') + (Number.isFinite(v) ? String(v) : 'null');
  }
  return out + ']';
}

function jsonBooleans(values: Uint8Array): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + (values[i] === 1 ? 'true' : 'false');
  return out + ']';
}

/**
 * The response to one request: its rows' slice of the batch result, in the outputs (and encodings) it asked for.
 * Written by hand rather than by JSON.stringify of an object tree: at batch 1 the response is mostly fixed text, and
 * building and walking the tree cost more than the numbers. The text is the one JSON.stringify would write.
 */
export function encodeInferResponse(modelName: string, request: InferRequest, result: BatchResult): EncodedResponse {
  const chunks: (Float64Array | Uint8Array)[] = [];
  let json = `{"model_name":${JSON.stringify(modelName)},"model_version":"1"`;
  if (request.id !== undefined) json += `,"id":${JSON.stringify(request.id)}`;
  json += ',"outputs":[';
  request.outputs.forEach(({ name, binary }, k) => {
    const values = column(result, name);
    json += `${k === 0 ? '' : ','}{"name":"${name}","datatype":"${OUTPUT_TYPES[name]}","shape":[${values.length}],`;
    if (binary) {
      chunks.push(values);
      json += `"parameters":{"binary_data_size":${values.byteLength}}}`;
    } else {
      // String(v) writes each double in its shortest form that parses back to the same double: exact.
      json += `"data":${values instanceof Uint8Array ? jsonBooleans(values) : jsonNumbers(values)}}`;
    }
  });
  json += ']}';
  if (chunks.length === 0) return { body: json, contentType: 'application/json' };
  // One allocation for the header and every binary output.
  const headerLength = Buffer.byteLength(json, 'utf8');
  const body = Buffer.allocUnsafe(headerLength + chunks.reduce((sum, c) => sum + c.byteLength, 0));
  body.write(json, 0, 'utf8');
  let offset = headerLength;
  for (const c of chunks) {
    body.set(bytesOf(c), offset);
    offset += c.byteLength;
  }
  return { body, contentType: 'application/octet-stream', headerLength };
}
