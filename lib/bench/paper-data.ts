// Your own ID and OOD sets for `ncod bench paper --data spec.json`:
// { "id": { "name": "...", "train": { "features": "x.npy", "labels": "y.npy" }, "test": { ... } },
//   "ood": [ { "name": "...", "train": { ... }, "test": { ... } }, ... ] }
// Paths are relative to the spec file and may name an array ("run.pt:feats"): the formats and conversions of
// lib/data/read-array.ts. Features: N×d; labels: integers 0..C−1.
import fs from 'node:fs/promises';
import path from 'node:path';

import { classCount } from '../data/class-count.js';
import { readFeatures, readLabels, type LabelledImages } from '../data/index.js';
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

async function loadPart(dir: string, spec: SplitSpec, what: string): Promise<LabelledImages> {
  if (typeof spec?.features !== 'string' || typeof spec.labels !== 'string') {
    fail('ERR_INVALID_ARGUMENT', what, '{ "features": "file.npy", "labels": "file.npy" }', describe(spec));
  }
  // readFeatures / readLabels open regular files only: a FIFO named in the spec would wait for a writer forever.
  const [x, labels] = await Promise.all([
    readFeatures(path.resolve(dir, spec.features), `${what}.features`),
    readLabels(path.resolve(dir, spec.labels), `${what}.labels`),
  ]);
  if (labels.length !== x.rows) fail('ERR_SHAPE', `${what}.labels`, `${x.rows} labels`, `${labels.length}`);
  return { features: x.data, labels, rows: x.rows, dim: x.dim };
}

async function loadSet(dir: string, spec: SetSpec, what: string): Promise<{ name: string; classes: number; split: Split }> {
  if (typeof spec?.name !== 'string' || spec.name === '') fail('ERR_INVALID_ARGUMENT', `${what}.name`, 'a name', describe(spec?.name));
  const split = { train: await loadPart(dir, spec.train, `${what}.train`), test: await loadPart(dir, spec.test, `${what}.test`) };
  if (split.train.dim !== split.test.dim) fail('ERR_SHAPE', `${what}.test.features`, `${split.train.dim} columns`, `${split.test.dim}`);
  const classes = classCount(`${what} labels`, split.train.labels, split.test.labels);
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
