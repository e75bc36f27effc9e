// The one canonical SHA-256 of a safetensors artifact (trainer checkpoints, NC state files): a digest of what is
// loaded, not of the file's bytes, so it does not depend on header key order, padding or tensor placement, and a
// writer in another language (scripts/python/ncstate.py) can reproduce it from the values alone.
import { createHash } from 'node:crypto';

import type { Tensor } from './tensor.js';

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * SHA-256 (hex) of: one line `JSON.stringify(signedKeys.map(k => metadata[k] ?? null))` + "\n" (the signed metadata
 * values in the order the format lists them, absent ones as null), then for each tensor in name order (code-unit
 * order, which is byte order for ASCII names) a line `JSON.stringify([name, dtype, shape, byteLength])` + "\n"
 * followed by its raw little-endian bytes. dtype is ncod's name ('float64', 'float32', ...), not the safetensors code.
 */
export function canonicalDigest(
  signedKeys: readonly string[],
  metadata: Readonly<Record<string, string | undefined>>,
  tensors: ReadonlyMap<string, Tensor>,
): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(signedKeys.map((k) => metadata[k] ?? null)) + '\n');
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    hash.update(JSON.stringify([name, t.dtype, t.shape, t.data.byteLength]) + '\n');
    hash.update(bytesOf(t.data));
  }
  return hash.digest('hex');
}
