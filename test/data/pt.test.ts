// The torch.save (.pt) reader against files laid out like torch.save's (test/helpers/torch_save.py), including
// views, every storage dtype, big-endian records, and hostile pickles that must be refused without running.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { flattenTensors, parsePt, readPt } from '../../lib/data/pt.js';
import { unpickle, type PicklePolicy } from '../../lib/data/pickle.js';
import { toFloat32 } from '../../lib/data/tensor.js';
import { expectFormatError, python, tmpDir } from './fixtures.js';

const HELPERS = fileURLToPath(new URL('../helpers', import.meta.url));
const dir = tmpDir();
const file = (name: string) => join(dir, `${name}.pt`);

/** Runs `script` with torch_save imported as ts; `out` is the fixture folder. */
function torchSave(script: string): void {
  python(`sys.path.insert(0, sys.argv[1])\nimport torch_save as ts\nimport collections\nout = sys.argv[2]\n${script}`, HELPERS, dir);
}

beforeAll(() => {
  torchSave(`
a = np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1
t = ts.tensor(a)
ts.save(t, os.path.join(out, 'bare.pt'))
ts.save({'feats': t, 'labels': ts.tensor(np.array([2, 0, 1], np.int64))}, os.path.join(out, 'dict.pt'))
ts.save({'model': {'fc': {'weight': t, 'bias': ts.tensor(np.ones(3, np.float64))}}, 'step': 7, 'name': 'run1',
         'feats': [t, ts.tensor(a[:2])], 'pair': (ts.tensor(np.zeros((2, 2), np.float32)), None)},
        os.path.join(out, 'nested.pt'))
# Views sharing one storage: the transpose, every other column with an offset, a row, a broadcast (stride 0).
ts.save({'t': t, 'T': ts.view(t, 0, (4, 3), (1, 4)), 'cols': ts.view(t, 1, (3, 2), (4, 2)),
         'row': ts.view(t, 8, (4,), (1,)), 'bcast': ts.view(t, 4, (2, 4), (0, 1))}, os.path.join(out, 'views.pt'))
np.save(os.path.join(out, 'views_ref.npy'), np.stack([a.T.ravel(), np.concatenate([a[:, 1::2].ravel(), np.zeros(6, np.float32)])]))
h = np.array([0, 1, -2, 65504, 2**-24, 2**-14, np.inf, -np.inf, np.nan, 0.1], np.float16)
ts.save({'half': ts.tensor(h), 'bf16': ts.tensor(np.array([0x3f80, 0xc000, 0x7f80, 0x0001, 0x7f7f, 0x3dcd], np.uint16), 'bfloat16'),
         'i8': ts.tensor(np.array([-128, 127], np.int8)), 'i16': ts.tensor(np.array([-32768, 32767], np.int16)),
         'i32': ts.tensor(np.array([-2**31, 2**31 - 1], np.int32)), 'i64': ts.tensor(np.array([-2**63, 2**63 - 1], np.int64)),
         'u8': ts.tensor(np.array([0, 255], np.uint8)), 'bool': ts.tensor(np.array([True, False, True])),
         'f64': ts.tensor(np.array([1e300, -0.1], np.float64))}, os.path.join(out, 'dtypes.pt'))
np.save(os.path.join(out, 'half_ref.npy'), h.astype(np.float32))
ts.save({'x': t, 'y': ts.tensor(np.array([1, -2, 3], np.int64))}, os.path.join(out, 'big.pt'), byteorder='big')
ts.save({'x': t}, os.path.join(out, 'proto4.pt'), protocol=4)
ts.save({'x': t}, os.path.join(out, 'nobyteorder.pt'), with_byteorder=False, prefix='my_model')
sd = collections.OrderedDict([('fc.weight', ts.Parameter(t)), ('fc.bias', ts.Parameter(ts.tensor(np.ones(3, np.float32))))])
sd._metadata = collections.OrderedDict([('', {'version': 1})])
ts.save(sd, os.path.join(out, 'state_dict.pt'))

# Hostile: globals that would run code under pickle.load. Hand-written so the names are exactly these.
marker = os.path.join(out, 'pwned')
ts.save_pickle(b'\\x80\\x02cos\\nsystem\\nq\\x00X' + struct.pack('<I', len('touch ' + marker)) + ('touch ' + marker).encode() + b'\\x85R.', os.path.join(out, 'os_system.pt'))
ts.save_pickle(b'\\x80\\x02cbuiltins\\neval\\nX\\x04\\x00\\x00\\x001+1\\x85R.', os.path.join(out, 'eval.pt'))
ts.save_pickle(b'\\x80\\x04\\x8c\\x08builtins\\x8c\\x04exec\\x93X\\x01\\x00\\x00\\x001\\x85R.', os.path.join(out, 'stack_global.pt'))
# A tensor rebuild inside a dict, then a call to a torch function that is not a rebuild.
ts.save_pickle(b'\\x80\\x02ctorch\\nload\\nX\\x01\\x00\\x00\\x00f\\x85R.', os.path.join(out, 'torch_load.pt'))
ts.save_pickle(b'\\x80\\x02c__builtin__\\nobject\\n)\\x81.', os.path.join(out, 'newobj.pt'))
ts.save_pickle(b'\\x80\\x02(cos\\nsystem\\nX\\x01\\x00\\x00\\x00xo.', os.path.join(out, 'inst_obj.pt'))
`);
}, 60_000);

function f32(values: ArrayLike<number>): number[] {
  return Array.from(values);
}

describe('torch.save files', () => {
  const a = Array.from({ length: 12 }, (_, i) => i * 0.5 - 1);

  it('reads a bare tensor as the only array, named ""', async () => {
    const m = await readPt(file('bare'));
    expect([...m.keys()]).toEqual(['']);
    expect(m.get('')).toMatchObject({ dtype: 'float32', shape: [3, 4] });
    expect(f32(m.get('')!.data as Float32Array)).toEqual(a);
  });

  it('reads a dict of tensors with their dtypes', async () => {
    const m = await readPt(file('dict'));
    expect([...m.keys()]).toEqual(['feats', 'labels']);
    expect(m.get('labels')).toEqual({ dtype: 'int64', shape: [3], data: BigInt64Array.from([2n, 0n, 1n]) });
  });

  it('names nested dicts, lists and tuples by dotted paths and skips non-tensor leaves', async () => {
    const m = await readPt(file('nested'));
    expect([...m.keys()]).toEqual(['model.fc.weight', 'model.fc.bias', 'feats.0', 'feats.1', 'pair.0']);
    expect(m.get('model.fc.bias')).toEqual({ dtype: 'float64', shape: [3], data: Float64Array.from([1, 1, 1]) });
    expect(f32(m.get('feats.1')!.data as Float32Array)).toEqual(a.slice(0, 8));
    expect(m.get('feats.0')!.shape).toEqual([3, 4]);
  });

  it('materialises views (transpose, strided columns with an offset, a row, stride 0) in C order', async () => {
    const m = await readPt(file('views'));
    const ref = python(`print(json.dumps(np.load(os.path.join(sys.argv[1], 'views_ref.npy')).tolist()))`, dir);
    const [transposed, colsAndZeros] = JSON.parse(ref) as number[][];
    expect(m.get('T')!.shape).toEqual([4, 3]);
    expect(f32(m.get('T')!.data as Float32Array)).toEqual(transposed);
    expect(m.get('cols')!.shape).toEqual([3, 2]);
    expect(f32(m.get('cols')!.data as Float32Array)).toEqual(colsAndZeros.slice(0, 6));
    expect(f32(m.get('row')!.data as Float32Array)).toEqual(a.slice(8, 12));
    expect(f32(m.get('bcast')!.data as Float32Array)).toEqual([...a.slice(4, 8), ...a.slice(4, 8)]);
    // The contiguous tensor is unchanged by its views being gathered.
    expect(f32(m.get('t')!.data as Float32Array)).toEqual(a);
  });

  it('reads every storage dtype: half and bfloat16 exactly, ints at their extremes, bool as uint8', async () => {
    const m = await readPt(file('dtypes'));
    const half = m.get('half')!;
    expect(half.dtype).toBe('float16');
    const ref = JSON.parse(python(`print(json.dumps([None if np.isnan(v) else (str(v) if np.isinf(v) else float(v)) for v in np.load(os.path.join(sys.argv[1], 'half_ref.npy'))]))`, dir)) as (number | string | null)[];
    const got = f32(toFloat32(half));
    ref.forEach((r, i) => {
      if (r === null) expect(got[i]).toBeNaN();
      else expect(got[i]).toBe(typeof r === 'string' ? Number(r.replace('inf', 'Infinity')) : r);
    });
    expect(m.get('bf16')!.dtype).toBe('bfloat16');
    expect(f32(toFloat32(m.get('bf16')!))).toEqual([1, -2, Infinity, 2 ** -133, 3.3895313892515355e38, Math.fround(0.10009765625)]);
    expect(m.get('i8')!.data).toEqual(Int8Array.from([-128, 127]));
    expect(m.get('i16')!.data).toEqual(Int16Array.from([-32768, 32767]));
    expect(m.get('i32')!.data).toEqual(Int32Array.from([-(2 ** 31), 2 ** 31 - 1]));
    expect(m.get('i64')!.data).toEqual(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]));
    expect(m.get('u8')!.data).toEqual(Uint8Array.from([0, 255]));
    expect(m.get('bool')).toEqual({ dtype: 'uint8', shape: [3], data: Uint8Array.from([1, 0, 1]) });
    expect(m.get('f64')!.data).toEqual(Float64Array.from([1e300, -0.1]));
  });

  it('byte-swaps storages of a big-endian file', async () => {
    const m = await readPt(file('big'));
    expect(f32(m.get('x')!.data as Float32Array)).toEqual(a);
    expect(m.get('y')!.data).toEqual(BigInt64Array.from([1n, -2n, 3n]));
  });

  it('reads pickle protocol 4, files without a byteorder record, any archive folder name', async () => {
    expect(f32((await readPt(file('proto4'))).get('x')!.data as Float32Array)).toEqual(a);
    expect(f32((await readPt(file('nobyteorder'))).get('x')!.data as Float32Array)).toEqual(a);
  });

  it('reads a state_dict: an OrderedDict of Parameters with _metadata', async () => {
    const m = await readPt(file('state_dict'));
    expect([...m.keys()]).toEqual(['fc.weight', 'fc.bias']);
    expect(m.get('fc.bias')!.data).toEqual(Float32Array.from([1, 1, 1]));
  });
});

describe('hostile .pt files', () => {
  it('refuses os.system and never runs it', async () => {
    await expect(readPt(file('os_system'))).rejects.toMatchObject({
      code: 'ERR_FILE_FORMAT',
      message: expect.stringContaining('expected only tensor rebuilds and plain containers, got the global os.system'),
    });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('refuses builtins.eval, builtins.exec via STACK_GLOBAL, and torch functions that are not rebuilds', () => {
    const bytes = (name: string) => readFileSync(file(name));
    expect(expectFormatError(() => parsePt(bytes('eval')))).toContain('got the global builtins.eval');
    expect(expectFormatError(() => parsePt(bytes('stack_global')))).toContain('got the global builtins.exec');
    expect(expectFormatError(() => parsePt(bytes('torch_load')))).toContain('got the global torch.load');
    // NEWOBJ / OBJ construct objects: refused even before the class name matters.
    expect(expectFormatError(() => parsePt(bytes('newobj')))).toMatch(/global __builtin__\.object|NEWOBJ/);
    expect(expectFormatError(() => parsePt(bytes('inst_obj')))).toContain('got the global os.system');
  });

  it('refuses damaged files with ERR_FILE_FORMAT', () => {
    const good = readFileSync(file('dict'));
    // The legacy (pre-1.6) format is a bare pickle stream.
    expect(expectFormatError(() => parsePt(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a])))).toContain('legacy');
    expect(expectFormatError(() => parsePt(new Uint8Array(100)))).toContain('zip');
    expect(expectFormatError(() => parsePt(good.subarray(0, good.length - 30)))).toBeTruthy();
    // A storage record one byte short of what the pickle declares.
    const short = python(`
sys.path.insert(0, sys.argv[1]); import torch_save as ts
import zipfile, io
src = zipfile.ZipFile(os.path.join(sys.argv[2], 'dict.pt'))
recs = [(n, src.read(n)[:-1] if n == 'archive/data/0' else src.read(n)) for n in src.namelist()]
ts._write_zip(os.path.join(sys.argv[2], 'short.pt'), recs)
print('ok')`, HELPERS, dir);
    expect(short.trim()).toBe('ok');
    expect(expectFormatError(() => parsePt(readFileSync(file('short'))))).toContain('data/0: expected 48 bytes');
  });

  it('refuses views reaching past their storage', () => {
    const out = python(`
sys.path.insert(0, sys.argv[1]); import torch_save as ts
t = ts.tensor(np.arange(6, dtype=np.float32))
ts.save(ts.view(t, 2, (2, 3), (3, 1)), os.path.join(sys.argv[2], 'past.pt'))
print('ok')`, HELPERS, dir);
    expect(out.trim()).toBe('ok');
    expect(expectFormatError(() => parsePt(readFileSync(file('past'))))).toContain('a view within its storage of 6 elements');
  });

  it('a truncated pickle is a format error, not a crash', () => {
    const pkl = Buffer.from('\x80\x02}q\x00(X\x01\x00\x00\x00a', 'latin1');
    writeFileSync(join(dir, 'trunc.pkl'), pkl);
    const out = python(`
sys.path.insert(0, sys.argv[1]); import torch_save as ts
ts.save_pickle(open(os.path.join(sys.argv[2], 'trunc.pkl'), 'rb').read(), os.path.join(sys.argv[2], 'trunc.pt'))
print('ok')`, HELPERS, dir);
    expect(out.trim()).toBe('ok');
    expect(expectFormatError(() => parsePt(readFileSync(file('trunc'))))).toContain('truncated');
  });

  it('bounds the walk over shared containers and cycles, and long integers', () => {
    // [a, a] nested 40 deep: 2^40 paths to walk from a few hundred pickle bytes.
    let node: unknown = [];
    for (let i = 0; i < 40; i++) node = [node, node];
    expect(expectFormatError(() => flattenTensors(node))).toContain('objects reachable');
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(expectFormatError(() => flattenTensors(cycle))).toContain('nested at most 64 deep');
    const none: PicklePolicy = { global: () => null, call: () => null, persistentLoad: () => null, build: (t) => t };
    const long4 = Uint8Array.from([0x80, 0x02, 0x8b, 0x00, 0x10, 0x00, 0x00, ...new Uint8Array(4096), 0x2e]);
    expect(expectFormatError(() => unpickle(long4, none))).toContain('an integer of at most 16 bytes');
    // LONG1 round trip of a negative 8-byte value (two's complement) and of one past 2^53 (a bigint).
    expect(unpickle(Uint8Array.from([0x80, 0x02, 0x8a, 0x02, 0x00, 0xff, 0x2e]), none)).toBe(-256);
    expect(unpickle(Uint8Array.from([0x80, 0x02, 0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0x40, 0, 0x2e]), none)).toBe(2n ** 54n);
  });
});
