// The client side of the binary tensor data extension, for the benchmark and the tests (and anyone calling
// `ncod serve` from Node): a request body of JSON header + raw little-endian tensor bytes, and the response split back.
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('lib/serve/client.ts writes host-order bytes: little-endian hosts only');

export interface BinaryRequest {
  body: Buffer;
  /** The value for the Inference-Header-Content-Length request header. */
  headerLength: number;
}

/** An inference request with `rows` (n×dim, FP32 or FP16 bits in a Uint16Array) as binary data. */
export function encodeBinaryRequest(
  input: { name: string; rows: Float32Array | Uint16Array; n: number; dim: number; datatype?: 'FP32' | 'FP16' },
  outputs: { names?: string[]; binary?: boolean; id?: string } = {},
): BinaryRequest {
  const datatype = input.datatype ?? (input.rows instanceof Uint16Array ? 'FP16' : 'FP32');
  const bytes = Buffer.from(input.rows.buffer, input.rows.byteOffset, input.rows.byteLength);
  const binary = outputs.binary ?? true;
  const header = Buffer.from(
    JSON.stringify({
      ...(outputs.id !== undefined && { id: outputs.id }),
      inputs: [{ name: input.name, datatype, shape: [input.n, input.dim], parameters: { binary_data_size: bytes.length } }],
      ...(outputs.names ? { outputs: outputs.names.map((name) => ({ name, parameters: { binary_data: binary } })) } : { parameters: { binary_data_output: binary } }),
    }),
  );
  return { body: Buffer.concat([header, bytes]), headerLength: header.length };
}

export interface DecodedOutput {
  name: string;
  datatype: string;
  shape: number[];
  /** FP64 → Float64Array, BOOL → Uint8Array (binary), or the JSON data as sent. */
  data: Float64Array | Uint8Array | unknown[];
}

/** A response body (JSON, or JSON + binary outputs when headerLength is given) as its header and outputs. */
export function decodeResponse(body: Buffer, headerLength?: number): { header: Record<string, unknown>; outputs: Record<string, DecodedOutput> } {
  const n = headerLength ?? body.length;
  const header = JSON.parse(body.toString('utf8', 0, n)) as Record<string, unknown>;
  const outputs: Record<string, DecodedOutput> = {};
  let offset = n;
  for (const o of (header.outputs ?? []) as { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size?: number } }[]) {
    const size = o.parameters?.binary_data_size;
    let data: DecodedOutput['data'] = o.data ?? [];
    if (size !== undefined) {
      const bytes = new Uint8Array(size);
      bytes.set(body.subarray(offset, offset + size)); // copied: aligned for the Float64Array view
      offset += size;
      data = o.datatype === 'FP64' ? new Float64Array(bytes.buffer) : bytes;
    }
    outputs[o.name] = { name: o.name, datatype: o.datatype, shape: o.shape, data };
  }
  return { header, outputs };
}
