// Runs test/helpers/nc_reference.py (NumPy, float64, straight from the definitions) on given arrays.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeNpy } from '../../lib/data/index.js';
import { findPython } from './python.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'nc_reference.py');

export interface NcReferenceInput {
  features: Float32Array;
  labels: Int32Array;
  dim: number;
  numClasses: number;
  weights?: Float32Array;
  bias?: Float32Array;
  oodFeatures?: Float32Array;
  weightedGlobalMean?: boolean;
  /** Also compute NC1 the reference code's way (float32 Σ_B, full pseudo-inverse). */
  naive?: boolean;
}

/** Keeps every `every`-th row of class 0 and all others: unbalanced classes, so μ_G weighted or not differ. */
export function unbalanced(features: Float32Array, labels: Int32Array, dim: number, every: number): { features: Float32Array; labels: Int32Array } {
  const keep = Array.from(labels.keys()).filter((i) => labels[i] !== 0 || i % every === 0);
  const f = new Float32Array(keep.length * dim);
  keep.forEach((i, r) => f.set(features.subarray(i * dim, (i + 1) * dim), r * dim));
  return { features: f, labels: Int32Array.from(keep, (i) => labels[i]) };
}

export async function ncReference(input: NcReferenceInput): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ncod-nc-'));
  try {
    const n = input.labels.length;
    await writeNpy(path.join(dir, 'features.npy'), { dtype: 'float32', shape: [n, input.dim], data: input.features });
    await writeNpy(path.join(dir, 'labels.npy'), { dtype: 'int32', shape: [n], data: input.labels });
    const C = input.numClasses;
    if (input.weights) await writeNpy(path.join(dir, 'weights.npy'), { dtype: 'float32', shape: [C, input.dim], data: input.weights });
    if (input.bias) await writeNpy(path.join(dir, 'bias.npy'), { dtype: 'float32', shape: [C], data: input.bias });
    if (input.oodFeatures) {
      const m = input.oodFeatures.length / input.dim;
      await writeNpy(path.join(dir, 'ood.npy'), { dtype: 'float32', shape: [m, input.dim], data: input.oodFeatures });
    }
    const meta = {
      num_classes: C,
      weights: !!input.weights,
      bias: !!input.bias,
      ood: !!input.oodFeatures,
      weighted: !!input.weightedGlobalMean,
      naive: !!input.naive,
    };
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
    const stdout = execFileSync(findPython(['numpy']), [script, dir], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(stdout) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
