// Runs test/helpers/ood_reference.py (NumPy, float64) on given arrays and returns its scores.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { readNpy, writeNpy } from '../../lib/data/index.js';
import { findPython } from './python.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ood_reference.py');

/** Each array is written as <name>.npy with the given shape; meta goes to meta.json. */
export async function oodReference(
  meta: Record<string, unknown>,
  arrays: Record<string, { data: Float32Array | Int32Array; shape: number[] }>,
): Promise<Float64Array> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ncod-ood-'));
  try {
    for (const [name, { data, shape }] of Object.entries(arrays)) {
      const dtype = data instanceof Int32Array ? 'int32' : 'float32';
      await writeNpy(path.join(dir, `${name}.npy`), { dtype, shape, data });
    }
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, inputs: Object.keys(arrays) }));
    execFileSync(findPython(['numpy']), [script, dir], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const out = await readNpy(path.join(dir, 'scores.npy'));
    return out.data as Float64Array;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
