// Your own ID and OOD sets for `ncod bench paper --data spec.json`:
// { "id": { "name": "...", "train": { "features": "x.npy", "labels": "y.npy" }, "test": { ... } },
//   "ood": [ { "name": "...", "train": { ... }, "test": { ... } }, ... ] }
// Paths are relative to the spec file. Features: N×d float32/float64; labels: int32/int64/uint8, 0..C−1.
import fs from 'node:fs/promises';
import path from 'node:path';

import { readNpy, toFloat32, toInt32Labels, type LabelledImages } from '../data/index.js';
import { describe, fail } from '../errors.js';
import type { PaperData, Split } from './paper.js';

interface SplitSpec {
  features: string;
  labels: string;
}
interface SetSpec {
  name: string;
  train: SplitSpec;
  test: SplitSpec;
}

// Regular files only: opening a FIFO named in the spec would wait for a writer forever.
async function regularFile(file: string, what: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await fs.stat(file)).isFile();
  } catch (error) {
    return fail('ERR_INVALID_ARGUMENT', what, 'an existing file', `${file} (${(error as Error).message})`);
  }
  if (!isFile) fail('ERR_INVALID_ARGUMENT', what, 'a regular file', `${file} (a directory, device, FIFO or socket)`);
}

async function loadPart(dir: string, spec: SplitSpec, what: string): Promise<LabelledImages> {
  if (typeof spec?.features !== 'string' || typeof spec.labels !== 'string') {
    fail('ERR_INVALID_ARGUMENT', what, '{ "features": "file.npy", "labels": "file.npy" }', describe(spec));
  }
  const files = [path.resolve(dir, spec.features), path.resolve(dir, spec.labels)];
  await Promise.all(files.map((f, i) => regularFile(f, `${what}.${i === 0 ? 'features' : 'labels'}`)));
  const [x, y] = await Promise.all(files.map((f) => readNpy(f)));
  if (x.shape.length !== 2) fail('ERR_SHAPE', `${what}.features`, 'a 2-D array', `shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') fail('ERR_DTYPE', `${what}.features`, 'float32 or float64', x.dtype);
  const labels = toInt32Labels(y, `${what}.labels`);
  if (labels.length !== x.shape[0]) fail('ERR_SHAPE', `${what}.labels`, `${x.shape[0]} labels`, `${labels.length}`);
  return { features: toFloat32(x), labels, rows: x.shape[0], dim: x.shape[1] };
}

async function loadSet(dir: string, spec: SetSpec, what: string): Promise<{ name: string; classes: number; split: Split }> {
  if (typeof spec?.name !== 'string' || spec.name === '') fail('ERR_INVALID_ARGUMENT', `${what}.name`, 'a name', describe(spec?.name));
  const split = { train: await loadPart(dir, spec.train, `${what}.train`), test: await loadPart(dir, spec.test, `${what}.test`) };
  if (split.train.dim !== split.test.dim) fail('ERR_SHAPE', `${what}.test.features`, `${split.train.dim} columns`, `${split.test.dim}`);
  // A loop, not Math.max(...labels): spreading 300 000 labels overflows the call stack.
  let maxLabel = -1;
  for (const labels of [split.train.labels, split.test.labels]) for (const v of labels) if (v > maxLabel) maxLabel = v;
  const classes = maxLabel + 1;
  if (classes < 2) fail('ERR_INVALID_ARGUMENT', `${what} labels`, 'at least 2 classes', `${classes}`);
  return { name: spec.name, classes, split };
}

export async function loadPaperData(specPath: string): Promise<PaperData> {
  let spec: { id: SetSpec; ood: SetSpec[] };
  try {
    // Regular files only: a FIFO would wait for a writer forever.
    if (!(await fs.stat(specPath)).isFile()) throw new Error('not a regular file');
    spec = JSON.parse(await fs.readFile(specPath, 'utf8'));
  } catch (error) {
    return fail('ERR_INVALID_ARGUMENT', '--data', 'a readable JSON file', `${specPath} (${(error as Error).message})`);
  }
  if (!Array.isArray(spec?.ood) || spec.ood.length === 0) fail('ERR_INVALID_ARGUMENT', 'data.ood', 'a non-empty list of OOD sets', describe(spec?.ood));
  const dir = path.dirname(specPath);
  const id = await loadSet(dir, spec.id, 'data.id');
  const ood = [];
  for (const [i, set] of spec.ood.entries()) {
    const loaded = await loadSet(dir, set, `data.ood[${i}]`);
    if (loaded.split.train.dim !== id.split.train.dim) {
      fail('ERR_SHAPE', `data.ood[${i}] features`, `${id.split.train.dim} columns (as the ID set)`, `${loaded.split.train.dim}`);
    }
    ood.push(loaded);
  }
  return { id, ood };
}
