// Dataset selection shared by `ncod train` and `ncod features`: MNIST and Fashion-MNIST with their official
// splits (from the packaged IDX files or a --data-dir), or any N×d array from array files (.npy, .npz, .safetensors,
// .pt: see lib/data/read-array.ts; the dataset is still called npy); --classes keeps some
// classes and relabels them 0..k−1 in the order given.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { loadFashionMnist, loadMnist, readIdxPair, selectClasses, type LabelledImages } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { readFeatures, readLabels, requireFile } from './arrays.js';

export const DATASETS = ['mnist', 'fashion', 'npy'] as const;
export type DatasetName = (typeof DATASETS)[number];
export type Split = 'train' | 'test';

/** Labelled rows; labels are absent only for an .npy given without labels. */
export interface Dataset {
  features: Float32Array;
  labels?: Int32Array;
  rows: number;
  dim: number;
}

export function parseDatasetName(value: string): DatasetName {
  if (!(DATASETS as readonly string[]).includes(value)) fail('ERR_INVALID_ARGUMENT', '--dataset', DATASETS.join(', '), describe(value));
  return value as DatasetName;
}

/** "0-4" → [0..4]; "0,2,5" → [0, 2, 5]; "0-2,7" → [0, 1, 2, 7]. Distinct non-negative integers. */
export function parseClasses(text: string): number[] {
  const bad = (): never => fail('ERR_INVALID_ARGUMENT', '--classes', 'distinct class ids like 0-4 or 0,2,5', describe(text));
  const classes: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match) bad();
    const [lo, hi] = [Number(match![1]), Number(match![2] ?? match![1])];
    if (hi < lo || hi - lo > 1 << 20) bad();
    for (let c = lo; c <= hi; c++) classes.push(c);
  }
  if (new Set(classes).size !== classes.length) bad();
  return classes;
}

/** An IDX file in `dir`, plain or gzipped (the packaged MNIST is plain, Fashion-MNIST and most downloads are .gz). */
function idxFile(dir: string, name: string): string {
  const file = path.join(dir, name);
  if (!existsSync(file) && existsSync(`${file}.gz`)) return `${file}.gz`;
  requireFile(file, '--data-dir');
  return file;
}

/** One official split of MNIST or Fashion-MNIST; `dataDir` holds {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
export function loadImages(dataset: 'mnist' | 'fashion', split: Split, dataDir?: string): Promise<LabelledImages> {
  if (dataDir) {
    const prefix = split === 'train' ? 'train' : 't10k';
    return readIdxPair(idxFile(dataDir, `${prefix}-images-idx3-ubyte`), idxFile(dataDir, `${prefix}-labels-idx1-ubyte`));
  }
  return dataset === 'mnist' ? loadMnist(split) : loadFashionMnist(split);
}

/** N×d features and, if given, N labels from array files (any format read-array.ts reads); `what` names the options. */
export async function loadNpyDataset(featuresPath: string, labelsPath: string | undefined, what: [string, string]): Promise<Dataset> {
  const x = await readFeatures(featuresPath, what[0]);
  if (!labelsPath) return { features: x.data, rows: x.rows, dim: x.dim };
  const labels = await readLabels(labelsPath, what[1]);
  if (labels.length !== x.rows) fail('ERR_SHAPE', what[1], `${x.rows} labels (one per row of ${what[0]})`, `${labels.length}`);
  return { features: x.data, labels, rows: x.rows, dim: x.dim };
}

/** The rows of `classes`, relabelled 0..k−1; every class must have at least one row. */
export function keepClasses(data: Dataset, classes: number[], what: string): Dataset {
  if (!data.labels) return fail('ERR_INVALID_ARGUMENT', '--classes', `labels for ${what}`, 'features without labels');
  const kept = selectClasses({ ...data, labels: data.labels }, classes);
  const counts = new Int32Array(classes.length);
  for (const y of kept.labels) counts[y]++;
  const missing = classes.filter((_, k) => counts[k] === 0);
  if (missing.length > 0) fail('ERR_INVALID_ARGUMENT', '--classes', `classes present in ${what}`, `none of class ${missing.join(', ')}`);
  return kept;
}

/** `--features/--labels` belong to --dataset npy, `--data-dir` to the image datasets. */
export function checkDatasetOptions(dataset: DatasetName, o: { dataDir?: string; features?: string; labels?: string }): void {
  if (dataset === 'npy' && !o.features) fail('ERR_INVALID_ARGUMENT', '--features', 'an array file with --dataset npy', 'none');
  for (const [flag, file] of [['--features', o.features], ['--labels', o.labels]]) {
    if (dataset !== 'npy' && file) fail('ERR_INVALID_ARGUMENT', flag!, `no array files with --dataset ${dataset}`, file);
  }
  if (dataset === 'npy' && o.dataDir) fail('ERR_INVALID_ARGUMENT', '--data-dir', 'mnist or fashion', '--dataset npy');
}
