// The input of `ncod bench ood --data spec.json`: per layer the ID train and test features (and optionally the
// classifier head), the ID labels, and the OOD test sets, each tagged near or far. Paths are relative to the spec:
// { "labels": { "train": "y_train.npy", "test": "y_test.npy" },
//   "layers": { "enc3": { "train": "a.npy", "test": "b.npy", "weights": "W.npy", "bias": "b.npy" } },
//   "ood": { "fashion": { "group": "far", "layers": { "enc3": "c.npy" } } } }
// An OOD set may leave a layer out (its cells are then absent). Any array file and file:name ncod reads (see
// lib/data/read-array.ts), and for features also shards, as quoted globs or comma lists (lib/data/stream/shards.ts);
// labels any integer dtype, 0..C−1; weights C×d, bias C. Features are opened as streams (ood-rows.ts), never read
// whole: only the labels and the head are held in memory.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { classCount } from '../data/class-count.js';
import { readArray, toFeatures, toFloatVector, toLabels, type Features } from '../data/read-array.js';
import { openFeatureSource } from '../data/stream/source.js';
import type { Tensor } from '../data/tensor.js';
import { describe, fail } from '../errors.js';
import type { HeadInput } from '../ood/detectors/state.js';
import type { RowSource } from './ood-rows.js';

export interface OodLayer {
  name: string;
  dim: number;
  train: RowSource;
  test: RowSource;
  head: HeadInput | undefined;
}

export interface OodSet {
  name: string;
  group: 'near' | 'far';
  /** Features per layer name (a subset of the layers). */
  layers: Map<string, RowSource>;
}

export interface OodBenchData {
  trainLabels: Int32Array;
  testLabels: Int32Array;
  numClasses: number;
  layers: OodLayer[];
  ood: OodSet[];
  /** The spec's optional "validation": {"layers": {...}}: OOD features for --sweep only, never a test set. */
  validation?: Map<string, RowSource>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The array a spec entry names (`file` or `file:name`, relative to the spec), read through lib/data/read-array.ts. */
async function tensor(dir: string, file: unknown, what: string): Promise<Tensor> {
  if (typeof file !== 'string' || file === '') fail('ERR_INVALID_ARGUMENT', what, 'a file name (relative to the spec)', describe(file));
  return readArray(path.resolve(dir, file), what); // regular files only: a FIFO would block the read forever
}

/** A feature matrix as a stream over its file or shards (a glob or comma list, relative to the spec). */
async function rowSource(dir: string, file: unknown, what: string, rows?: number, cols?: number): Promise<RowSource> {
  if (typeof file !== 'string' || file === '') fail('ERR_INVALID_ARGUMENT', what, 'a file name (relative to the spec)', describe(file));
  // Each shard of a comma list relative to the spec (an existing file whose name holds a comma is that file).
  const whole = path.resolve(dir, file);
  const spec = existsSync(whole) ? whole : file.split(',').map((part) => path.resolve(dir, part)).join(',');
  const source = await openFeatureSource({ features: spec, what });
  if (rows !== undefined && source.rows !== rows) fail('ERR_SHAPE', what, `${rows} rows`, `${source.rows}`);
  if (cols !== undefined && source.dim !== cols) fail('ERR_SHAPE', what, `${cols} columns`, `${source.dim}`);
  return source;
}

async function matrix(dir: string, file: unknown, what: string, rows?: number, cols?: number): Promise<Features> {
  const m = toFeatures(await tensor(dir, file, what), what);
  if (rows !== undefined && m.rows !== rows) fail('ERR_SHAPE', what, `${rows} rows`, `${m.rows}`);
  if (cols !== undefined && m.dim !== cols) fail('ERR_SHAPE', what, `${cols} columns`, `${m.dim}`);
  return m;
}

async function vector(dir: string, file: unknown, what: string, length: number): Promise<Float32Array> {
  const v = toFloatVector(await tensor(dir, file, what), what);
  if (v.length !== length) fail('ERR_SHAPE', what, `${length} values`, `${v.length}`);
  return v;
}

async function labelsOf(dir: string, file: unknown, what: string): Promise<Int32Array> {
  return toLabels(await tensor(dir, file, what), what);
}

/** An OOD entry's {layer: file} features, each with its layer's width. */
async function layerFeatures(dir: string, entries: Record<string, unknown>, layers: OodLayer[], what: string): Promise<Map<string, RowSource>> {
  const features = new Map<string, RowSource>();
  for (const [layer, file] of Object.entries(entries)) {
    const known = layers.find((l) => l.name === layer);
    if (!known) fail('ERR_INVALID_ARGUMENT', `${what}.layers.${layer}`, `one of the layers ${layers.map((l) => l.name).join(', ')}`, layer);
    features.set(layer, await rowSource(dir, file, `${what}.layers.${layer}`, undefined, known.dim));
  }
  return features;
}

export async function loadOodSpec(specPath: string): Promise<OodBenchData> {
  let spec: unknown;
  try {
    // Regular files only: a FIFO would wait for a writer forever.
    if (!(await fs.stat(specPath)).isFile()) throw new Error('not a regular file');
    spec = JSON.parse(await fs.readFile(specPath, 'utf8'));
  } catch (error) {
    return fail('ERR_INVALID_ARGUMENT', '--data', 'a readable JSON file', `${specPath} (${(error as Error).message})`);
  }
  if (!isObject(spec) || !isObject(spec.labels) || !isObject(spec.layers) || !isObject(spec.ood)) {
    fail('ERR_INVALID_ARGUMENT', '--data', 'an object with "labels" {train, test}, "layers" {...} and "ood" {...}', describe(spec));
  }
  const dir = path.dirname(specPath);
  const trainLabels = await labelsOf(dir, spec.labels.train, 'labels.train');
  const testLabels = await labelsOf(dir, spec.labels.test, 'labels.test');
  const numClasses = classCount('labels', trainLabels, testLabels);
  if (numClasses < 2) fail('ERR_INVALID_ARGUMENT', 'labels', 'at least 2 classes', String(numClasses));

  const layers: OodLayer[] = [];
  for (const [name, entry] of Object.entries(spec.layers)) {
    if (!isObject(entry)) fail('ERR_INVALID_ARGUMENT', `layers.${name}`, '{ "train", "test" [, "weights", "bias"] }', describe(entry));
    const train = await rowSource(dir, entry.train, `layers.${name}.train`, trainLabels.length);
    const test = await rowSource(dir, entry.test, `layers.${name}.test`, testLabels.length, train.dim);
    let head: HeadInput | undefined;
    if (entry.weights !== undefined) {
      const w = await matrix(dir, entry.weights, `layers.${name}.weights`, undefined, train.dim);
      const bias = entry.bias === undefined ? undefined : await vector(dir, entry.bias, `layers.${name}.bias`, w.rows);
      head = { weights: w.data, bias, numClasses: w.rows };
    }
    layers.push({ name, dim: train.dim, train, test, head });
  }
  if (layers.length === 0) fail('ERR_INVALID_ARGUMENT', 'layers', 'at least one layer', '{}');

  const ood: OodSet[] = [];
  for (const [name, entry] of Object.entries(spec.ood)) {
    if (!isObject(entry) || !isObject(entry.layers)) fail('ERR_INVALID_ARGUMENT', `ood.${name}`, '{ "group": "near"|"far", "layers": {...} }', describe(entry));
    const group = entry.group ?? 'far';
    if (group !== 'near' && group !== 'far') fail('ERR_INVALID_ARGUMENT', `ood.${name}.group`, '"near" or "far"', describe(group));
    ood.push({ name, group, layers: await layerFeatures(dir, entry.layers, layers, `ood.${name}`) });
  }
  if (ood.length === 0) fail('ERR_INVALID_ARGUMENT', 'ood', 'at least one OOD set', '{}');
  let validation: Map<string, RowSource> | undefined;
  if (spec.validation !== undefined) {
    if (!isObject(spec.validation) || !isObject(spec.validation.layers)) fail('ERR_INVALID_ARGUMENT', 'validation', '{ "layers": { layer: file } }', describe(spec.validation));
    validation = await layerFeatures(dir, spec.validation.layers, layers, 'validation');
    const missing = layers.filter((l) => !validation!.has(l.name)).map((l) => l.name);
    if (missing.length) fail('ERR_INVALID_ARGUMENT', 'validation.layers', `features for every layer (${layers.map((l) => l.name).join(', ')})`, `none for ${missing.join(', ')}`);
  }
  return { trainLabels, testLabels, numClasses, layers, ood, validation };
}
