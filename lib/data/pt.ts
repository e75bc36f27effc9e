/**
 * Tensors from `torch.save` files (the zip format, PyTorch ≥ 1.6): `<name>/data.pkl` is a pickle of the saved
 * object whose tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls and whose
 * storages are persistent ids `('storage', torch.FloatStorage, key, location, numel)` naming the raw little-endian
 * (or, per `<name>/byteorder`, big-endian) record `<name>/data/<key>`.
 *
 * Safety: a pickle can name any Python callable, and torch.load without weights_only runs it. This reader runs
 * nothing: it decodes the pickle with a restricted unpickler (pickle.ts) that knows only the tensor rebuilds, the
 * storage types, collections.OrderedDict and torch.device; any other global is refused with ERR_FILE_FORMAT
 * naming it, before anything else happens.
 */
import { fail } from '../errors.js';
import { byteswap, checkStridedBounds, gatherStrided, isCContiguous } from './layout.js';
import { Zip, extract, readDirectory, type Entry } from './npz.js';
import { describeValue, unpickle, type PicklePolicy } from './pickle.js';
import { ITEM_SIZE, elementCount, readFileBytes, typedView, type DType, type Tensor } from './tensor.js';

/** torch storage classes → element dtype (BoolStorage holds one 0/1 byte per element: read as uint8). */
const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  CharStorage: 'int8',
  ShortStorage: 'int16',
  IntStorage: 'int32',
  LongStorage: 'int64',
  ByteStorage: 'uint8',
  BoolStorage: 'uint8',
};

const ALLOWED = 'only tensor rebuilds and plain containers';
const MAX_OBJECTS = 1 << 22;

// Markers for what the allowed globals stand for: the pickle only ever sees these, never anything callable.
class StorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}
class Callable {
  constructor(readonly name: string) {}
}
class Storage {
  constructor(readonly key: string, readonly dtype: DType, readonly data: Tensor['data']) {}
}
/** A decoded tensor; distinct from Map/array so flattening can tell leaves from containers. */
export class PtTensor {
  constructor(readonly tensor: Tensor) {}
}
class Device {
  constructor(readonly name: string) {}
}

const CALLABLES = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'collections.OrderedDict',
  'torch.device',
]);

/** Reads a torch.save file into its tensors, by dotted name (see flattenTensors); '' for a file of one bare tensor. */
export async function readPt(path: string): Promise<Map<string, Tensor>> {
  return parsePt(await readFileBytes(path), path);
}

/** Parses a torch.save file held in memory. */
export function parsePt(bytes: Uint8Array, what = 'pt'): Map<string, Tensor> {
  return flattenTensors(loadPt(bytes, what), what);
}

/** The saved object: Maps for dicts, arrays for lists and tuples, PtTensor for tensors, plain values otherwise. */
export function loadPt(bytes: Uint8Array, what = 'pt'): unknown {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail('ERR_FILE_FORMAT', what, 'the zip format of torch.save (PyTorch ≥ 1.6)', 'the legacy pickle format (re-save it with a recent PyTorch)');
  }
  const zip = new Zip(bytes, what);
  const entries = new Map<string, Entry>();
  for (const e of readDirectory(zip)) entries.set(e.name, e);
  const roots = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (roots.length !== 1) {
    const got = roots.length === 0 ? (entries.has('constants.pkl') || [...entries.keys()].some((n) => n.endsWith('/constants.pkl')) ? 'a TorchScript archive' : 'no <name>/data.pkl') : roots.join(', ');
    fail('ERR_FILE_FORMAT', what, 'a torch.save zip holding one <name>/data.pkl', got);
  }
  const prefix = roots[0].slice(0, -'data.pkl'.length);
  const record = (name: string): Uint8Array | undefined => {
    const entry = entries.get(prefix + name);
    return entry && extract(bytes, entry, `${what}: ${prefix + name}`);
  };
  const bigEndian = byteOrder(record('byteorder'), what);
  const pickle = record('data.pkl')!;
  return unpickle(pickle, torchPolicy(what, bigEndian, record), `${what}: ${roots[0]}`);
}

function byteOrder(record: Uint8Array | undefined, what: string): boolean {
  // Files without the record predate it (PyTorch < 2.1) and were written little-endian in practice.
  if (record === undefined) return false;
  const text = Buffer.from(record).toString('latin1');
  if (text !== 'little' && text !== 'big') fail('ERR_FILE_FORMAT', `${what}: byteorder`, "'little' or 'big'", JSON.stringify(text.slice(0, 20)));
  return text === 'big';
}

function torchPolicy(what: string, bigEndian: boolean, record: (name: string) => Uint8Array | undefined): PicklePolicy {
  const where = `${what}: data.pkl`;
  const storages = new Map<string, Storage>();
  const bad = (expected: string, got: unknown): never => fail('ERR_FILE_FORMAT', where, expected, describeValue(got));

  const loadStorage = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') return bad("a persistent id ('storage', type, key, location, numel)", pid);
    const [, type, key, , numel] = pid as unknown[];
    if (!(type instanceof StorageType)) return bad('a torch storage type', type);
    if (typeof key !== 'string') return bad('a storage key string', key);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return bad('a storage size', numel);
    const seen = storages.get(key);
    if (seen) {
      if (seen.dtype !== type.dtype) fail('ERR_FILE_FORMAT', where, `storage ${key} used with one dtype`, `${seen.dtype} and ${type.dtype}`);
      return seen;
    }
    const bytes = record(`data/${key}`);
    if (bytes === undefined) fail('ERR_FILE_FORMAT', where, `a record data/${key} for storage ${key}`, 'none');
    const itemSize = ITEM_SIZE[type.dtype];
    if (bytes.length !== numel * itemSize) {
      fail('ERR_FILE_FORMAT', `${what}: data/${key}`, `${numel * itemSize} bytes (${numel} × ${type.name})`, `${bytes.length}`);
    }
    let data = typedView(type.dtype, bytes, 0, numel);
    if (bigEndian && itemSize > 1) {
      if (data.buffer === bytes.buffer) data = data.slice(); // never swap the file buffer under another reader
      byteswap(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), itemSize);
    }
    const storage = new Storage(key, type.dtype, data);
    storages.set(key, storage);
    return storage;
  };

  const rebuildTensor = (args: readonly unknown[]): PtTensor => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) return bad('a storage as the first argument of a tensor rebuild', storage);
    const shape = intTuple(size, 'size', where);
    const strides = intTuple(stride, 'stride', where);
    if (typeof offset !== 'number') return bad('an integer storage offset', offset);
    const count = elementCount(shape, `${where}: tensor size`, 'ERR_FILE_FORMAT');
    checkStridedBounds(shape, strides, offset, storage.data.length, `${where}: tensor of storage ${storage.key}`);
    // Contiguous: a view on the storage (tensors sharing a storage share memory, as in torch). Else a C-order copy.
    const data = isCContiguous(shape, strides) ? storage.data.subarray(offset, offset + count) : gatherStrided(storage.dtype, storage.data, shape, strides, offset);
    return new PtTensor({ dtype: storage.dtype, shape, data });
  };

  return {
    global(module, name) {
      const full = `${module}.${name}`;
      if (module === 'torch' && name in STORAGE_DTYPES) return new StorageType(name, STORAGE_DTYPES[name]);
      if (CALLABLES.has(full)) return new Callable(full);
      return fail('ERR_FILE_FORMAT', where, ALLOWED, `the global ${full}`);
    },
    call(callable, args) {
      if (!(callable instanceof Callable)) return bad('a callable global', callable);
      switch (callable.name) {
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor':
          return rebuildTensor(args);
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          // A Parameter is its tensor; requires_grad and hooks do not matter here.
          if (!(args[0] instanceof PtTensor)) return bad('a tensor inside a Parameter', args[0]);
          return args[0];
        case 'collections.OrderedDict':
          return orderedDict(args, where);
        case 'torch.device':
          return new Device(args.map(String).join(':'));
      }
      return bad('a known callable', callable.name);
    },
    persistentLoad: loadStorage,
    build(target, state) {
      // OrderedDict state is its attributes (a state_dict's `_metadata`); a tensor's is hooks. Neither holds tensors.
      if (target instanceof Map || target instanceof PtTensor) return target;
      return bad('BUILD on a dict or a tensor', target);
    },
  };
}

function orderedDict(args: readonly unknown[], where: string): Map<unknown, unknown> {
  const out = new Map<unknown, unknown>();
  if (args.length === 0) return out;
  const items = args[0];
  if (args.length !== 1 || !Array.isArray(items)) return fail('ERR_FILE_FORMAT', where, 'OrderedDict() or OrderedDict([(key, value), ...])', `${args.length} arguments`);
  for (const pair of items) {
    if (!Array.isArray(pair) || pair.length !== 2) fail('ERR_FILE_FORMAT', where, 'OrderedDict items as (key, value) pairs', describeValue(pair));
    out.set(pair[0], pair[1]);
  }
  return out;
}

function intTuple(value: unknown, name: string, where: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    return fail('ERR_FILE_FORMAT', `${where}: tensor ${name}`, 'a tuple of non-negative integers', describeValue(value));
  }
  return [...value] as number[];
}

/**
 * Every tensor in the object, named by its path: dict keys and list/tuple indexes joined with '.', e.g.
 * `model.layer4.0.weight` or `feats.2`; a bare tensor is ''. Other leaves (numbers, strings, None) are skipped.
 */
export function flattenTensors(root: unknown, what = 'pt'): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  // The pickle memo lets a small file reference one container many times ([a, a] nested 60 deep is 2^60 paths):
  // the walk is bounded in steps as well as in depth (which also stops cycles).
  let steps = 0;
  const visit = (value: unknown, name: string, depth: number): void => {
    if (depth > 64) fail('ERR_FILE_FORMAT', what, 'containers nested at most 64 deep', 'deeper (or a cycle)');
    if (++steps > MAX_OBJECTS) fail('ERR_FILE_FORMAT', what, `at most ${MAX_OBJECTS} objects reachable from the saved one`, 'more');
    if (value instanceof PtTensor) {
      if (out.has(name)) fail('ERR_FILE_FORMAT', what, 'distinct tensor names', `'${name}' twice`);
      out.set(name, value.tensor);
    } else if (value instanceof Map) {
      for (const [k, v] of value) visit(v, name === '' ? String(k) : `${name}.${String(k)}`, depth + 1);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, name === '' ? String(i) : `${name}.${i}`, depth + 1));
    }
  };
  visit(root, '', 0);
  return out;
}
