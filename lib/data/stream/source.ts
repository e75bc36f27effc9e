/**
 * Arrays of any size from files, a chunk of rows at a time: `openArrayStream(spec)` for one array over one or
 * more shard files, and `openFeatureSource({ features, labels })`, a re-iterable BatchSource of float32 features
 * with their int32 labels that every streaming fit and metric takes. Memory: two chunks (the one being used and
 * the one being read ahead), whatever the number of rows.
 */
import { fail } from '../../errors.js';
import type { FeatureBatch } from '../batches.js';
import { ClassCounter } from '../class-count.js';
import type { ArraySpec } from '../read-array.js';
import { ITEM_SIZE, isFloatDType, toFloat32, toInt32Labels, type DType, type TensorData } from '../tensor.js';
import { describeFile, type ArrayFile } from './array-file.js';
import { expandShards } from './shards.js';
import { existsSync, statSync } from 'node:fs';

/** Bytes of one chunk by default: large enough to amortise a native call, small enough to bound memory. */
const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * Rows per chunk for rows of `rowBytes`: NCOD_CHUNK_ROWS when set (tests use tiny chunks to cross boundaries
 * cheaply), else 64 MiB worth.
 */
export function chunkRowsFor(rowBytes: number, requested?: number): number {
  const fromEnv = process.env.NCOD_CHUNK_ROWS;
  const rows = requested ?? (fromEnv ? Number(fromEnv) : Math.floor(DEFAULT_CHUNK_BYTES / Math.max(1, rowBytes)));
  if (!Number.isSafeInteger(rows) || rows < 1) {
    fail('ERR_INVALID_ARGUMENT', requested === undefined && fromEnv ? 'NCOD_CHUNK_ROWS' : 'chunkRows', 'a positive integer', String(requested ?? fromEnv));
  }
  return Math.max(1, rows);
}

/** One array over its shards, in order. */
export class ArrayStream {
  readonly dtype: DType;
  /** [total rows, ...the shards' common row shape]. */
  readonly shape: number[];
  readonly rows: number;
  readonly rowElements: number;

  private constructor(
    readonly parts: readonly ArrayFile[],
    readonly what: string,
  ) {
    const first = parts[0];
    this.dtype = first.dtype;
    this.rowElements = first.rowElements;
    this.rows = parts.reduce((n, p) => n + p.rows, 0);
    this.shape = [this.rows, ...first.shape.slice(1)];
  }

  /** `spec` as parseArraySpec takes it, or several shards (see shards.ts). */
  static async open(spec: string, what: string): Promise<ArrayStream> {
    return ArrayStream.fromShards(await expandShards(spec, what), what);
  }

  /** The same array (by name, or each file's only one) over the shard files, in the order given. */
  static async fromShards(shards: readonly ArraySpec[], what: string): Promise<ArrayStream> {
    if (shards.length === 0) fail('ERR_INVALID_ARGUMENT', what, 'at least one file', 'none');
    const parts: ArrayFile[] = [];
    for (const shard of shards) parts.push(await describeOne(shard, shards.length > 1 ? `${what} shard ${shard.path}` : what));
    const first = parts[0];
    for (const part of parts.slice(1)) {
      if (part.shape.length !== first.shape.length || part.shape.slice(1).join() !== first.shape.slice(1).join()) {
        fail('ERR_SHAPE', part.what, `rows of shape [${first.shape.slice(1).join(', ')}] like ${first.path}`, `shape [${part.shape.join(', ')}]`);
      }
      if (isFloatDType(part.dtype) !== isFloatDType(first.dtype)) fail('ERR_DTYPE', part.what, `${first.dtype} like ${first.path}`, part.dtype);
    }
    return new ArrayStream(parts, what);
  }

  /** The data in chunks of up to `chunkRows` rows (never across a shard boundary), reading the next one ahead. */
  async *chunks(chunkRows: number): AsyncGenerator<{ data: TensorData; dtype: DType; rows: number; part: number }> {
    for (const [index, part] of this.parts.entries()) {
      const reader = await part.open();
      try {
        let left = part.rows;
        let pending: Promise<TensorData> | undefined = left > 0 ? reader.read(Math.min(chunkRows, left)) : undefined;
        while (pending) {
          const data = await pending;
          const rows = data.length / Math.max(1, part.rowElements);
          left -= rows;
          pending = left > 0 ? reader.read(Math.min(chunkRows, left)) : undefined;
          // Keep a failed read-ahead from surfacing as an unhandled rejection if the consumer stops here.
          pending?.catch(() => undefined);
          yield { data, dtype: reader.dtype, rows, part: index };
        }
      } finally {
        await reader.close();
      }
    }
  }
}

async function describeOne(shard: ArraySpec, what: string): Promise<ArrayFile> {
  if (!isRegularFile(shard.path)) {
    if (existsSync(shard.path)) fail('ERR_INVALID_ARGUMENT', what, 'a regular file', `${shard.path} (a directory, device, FIFO or socket)`);
    fail('ERR_INVALID_ARGUMENT', what, 'an existing file', shard.path);
  }
  const arrays = await describeFile(shard.path, shard.format, what);
  if (shard.name !== undefined) {
    const named = arrays.get(shard.name);
    if (!named) fail('ERR_INVALID_ARGUMENT', what, `an array named ${[...arrays.keys()].map((k) => `'${k}'`).join(', ')} in ${shard.path}`, `'${shard.name}'`);
    return named;
  }
  if (arrays.size !== 1) {
    fail('ERR_INVALID_ARGUMENT', what, `one array: name it with ${shard.path}:name, one of ${[...arrays.keys()].map((k) => `'${k}'`).join(', ')}`, `${arrays.size} arrays`);
  }
  return arrays.values().next().value!;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Every array of a file holding several (.npz, .safetensors, .pt) by name, each over all the shards when `spec` names
 * several files with the same arrays: `layers-*.npz` gives one stream per array name. `spec:name` names one array
 * (or, where the file has none of that name, the group `name.*`, named relative to it).
 */
export async function openNamedStreams(spec: string, what: string): Promise<Map<string, ArrayStream>> {
  const shards = await expandShards(spec, what);
  const first = shards[0];
  const arrays = await describeFile(first.path, first.format, what);
  let names: [string, string][]; // [layer name, array name in the files]
  if (first.name === undefined) names = [...arrays.keys()].map((n) => [n, n]);
  else if (arrays.has(first.name)) names = [[first.name, first.name]];
  else {
    const prefix = `${first.name}.`;
    names = [...arrays.keys()].filter((n) => n.startsWith(prefix)).map((n) => [n.slice(prefix.length), n]);
    if (names.length === 0) fail('ERR_INVALID_ARGUMENT', what, `an array named ${[...arrays.keys()].map((k) => `'${k}'`).join(', ')} in ${first.path}`, `'${first.name}'`);
  }
  const out = new Map<string, ArrayStream>();
  for (const [layer, name] of names) {
    const label = names.length > 1 ? `${what} ${layer}` : what;
    out.set(layer, await ArrayStream.fromShards(shards.map((s) => ({ ...s, name: first.format === 'npy' ? undefined : name })), label));
  }
  return out;
}

export interface FeatureSourceOptions {
  /** N×d features: a file spec or shards (see shards.ts), or an opened ArrayStream. */
  features: string | ArrayStream;
  /** N labels, sharded or not; their shards need not line up with the features'. */
  labels?: string | ArrayStream;
  /** Rows per batch; default 64 MiB of float32 rows (NCOD_CHUNK_ROWS overrides it). */
  chunkRows?: number;
  what?: string;
}

/** Features (and labels) from files as a re-iterable BatchSource: each iteration reads the files from the start. */
export class FeatureFileSource implements AsyncIterable<FeatureBatch & { features: Float32Array; labels?: Int32Array }> {
  readonly rows: number;
  readonly dim: number;
  readonly chunkRows: number;

  constructor(
    readonly features: ArrayStream,
    readonly labels: ArrayStream | undefined,
    chunkRows: number | undefined,
  ) {
    if (features.shape.length !== 2) fail('ERR_SHAPE', features.what, 'a 2-D array (rows × columns)', `shape [${features.shape.join(', ')}]`);
    if (labels) checkLabelShape(labels);
    if (labels && labels.rows !== features.rows) {
      fail('ERR_SHAPE', labels.what, `${features.rows} labels (one per row of ${features.what})`, `${labels.rows}`);
    }
    if (labels && labels.parts.length === features.parts.length && labels.parts.length > 1) {
      // Shards that pair up must pair up row for row: a mismatch means a missing or misordered shard.
      features.parts.forEach((part, k) => {
        if (labels.parts[k].rows !== part.rows) fail('ERR_SHAPE', labels.parts[k].what, `${part.rows} labels like ${part.path}`, `${labels.parts[k].rows}`);
      });
    }
    this.rows = features.rows;
    this.dim = features.rowElements;
    this.chunkRows = chunkRowsFor(this.dim * 4, chunkRows);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<{ features: Float32Array; labels?: Int32Array }> {
    const labelChunks = this.labels ? labelsInChunks(this.labels, this.chunkRows) : undefined;
    try {
      for await (const chunk of this.features.chunks(this.chunkRows)) {
        const features = toFloat32({ dtype: chunk.dtype, shape: [chunk.rows, this.dim], data: chunk.data });
        yield labelChunks ? { features, labels: await labelChunks.take(chunk.rows) } : { features };
      }
    } finally {
      await labelChunks?.close();
    }
  }
}

function checkLabelShape(labels: ArrayStream): void {
  const s = labels.shape;
  const ok = s.length === 1 || (s.length === 2 && s[1] === 1);
  if (!ok) fail('ERR_SHAPE', labels.what, 'a 1-D array of labels (or N×1)', `shape [${s.join(', ')}]`);
  if (isFloatDType(labels.dtype)) fail('ERR_DTYPE', labels.what, 'integer labels (int8/16/32/64 or uint8/16/32/64)', labels.dtype);
}

/** Labels handed out `n` at a time, whatever their own chunking (their shards need not match the features'). */
function labelsInChunks(labels: ArrayStream, chunkRows: number) {
  const chunks = labels.chunks(chunkRows);
  let buffered: Int32Array = new Int32Array(0);
  return {
    async take(n: number): Promise<Int32Array> {
      while (buffered.length < n) {
        const step = await chunks.next();
        if (step.done) fail('ERR_SHAPE', labels.what, `${labels.rows} labels`, 'fewer (the file changed)');
        const more = toInt32Labels({ dtype: step.value.dtype, shape: [step.value.rows], data: step.value.data }, labels.what);
        buffered = buffered.length === 0 ? more : concatInt32(buffered, more);
      }
      const out = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      return out;
    },
    async close(): Promise<void> {
      await chunks.return(undefined);
    },
  };
}

function concatInt32(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Opens features and labels from specs. */
export async function openFeatureSource(options: FeatureSourceOptions): Promise<FeatureFileSource> {
  const what = options.what ?? 'features';
  const features = typeof options.features === 'string' ? await ArrayStream.open(options.features, what) : options.features;
  const labels = typeof options.labels === 'string' ? await ArrayStream.open(options.labels, 'labels') : options.labels;
  return new FeatureFileSource(features, labels, options.chunkRows);
}

/** The class count a labels stream implies, largest label + 1 (one cheap pass), for commands that infer it. */
export async function classCountOf(labels: ArrayStream): Promise<number> {
  checkLabelShape(labels);
  const counter = new ClassCounter();
  for await (const chunk of labels.chunks(chunkRowsFor(ITEM_SIZE[labels.dtype]))) {
    counter.add(toInt32Labels({ dtype: chunk.dtype, shape: [chunk.rows], data: chunk.data }, labels.what), labels.what);
  }
  return counter.count(labels.what);
}

/** The largest label in a labels stream (negative labels are ERR_LABEL_RANGE). */
export async function maxLabelOf(labels: ArrayStream): Promise<number> {
  return (await classCountOf(labels)) - 1;
}
