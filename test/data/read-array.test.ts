// The one file:name syntax and the feature/label conversions every command and the JS API use.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseArraySpec, readArray, readArrays, readFeatures, readLabels } from '../../lib/data/read-array.js';
import { python, tmpDir } from './fixtures.js';

const HELPERS = fileURLToPath(new URL('../helpers', import.meta.url));
const dir = tmpDir();
const p = (name: string) => join(dir, name);
const LABELS = [3, 0, 2, 1, 1, 0];
const LABEL_CODES = ['i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', '>i8', '>u2'];

beforeAll(() => {
  python(
    `
sys.path.insert(0, sys.argv[2]); import torch_save as ts
out = sys.argv[1]
x = (np.arange(24, dtype=np.float64).reshape(6, 4) - 10) / 8
np.save(os.path.join(out, 'x64.npy'), x)
np.save(os.path.join(out, 'x16.npy'), x.astype(np.float16))
np.save(os.path.join(out, 'xT.npy'), np.asfortranarray(x))
np.save(os.path.join(out, 'xint.npy'), np.arange(6, dtype=np.uint8).reshape(3, 2))
np.save(os.path.join(out, 'vector.npy'), np.zeros(6, np.float32))
y = np.array(${JSON.stringify(LABELS)})
for code in ${JSON.stringify(LABEL_CODES)}:
    np.save(os.path.join(out, f'y_{code.replace(">", "be")}.npy'), y.astype(code))
np.save(os.path.join(out, 'y_bool.npy'), y > 1)
np.save(os.path.join(out, 'y_col.npy'), y.reshape(6, 1))
np.save(os.path.join(out, 'y_row.npy'), y.reshape(1, 6).astype(np.int64))
np.save(os.path.join(out, 'y_2d.npy'), np.zeros((2, 3), np.int32))
np.save(os.path.join(out, 'y_float.npy'), y.astype(np.float32))
np.save(os.path.join(out, 'y_u32big.npy'), np.array([1, 2**31], np.uint32))
np.save(os.path.join(out, 'y_i64big.npy'), np.array([0, -2**31 - 1], np.int64))
np.savez(os.path.join(out, 'both.npz'), feats=x.astype(np.float32), labels=y)
np.savez(os.path.join(out, 'one.npz'), only=x)
ts.save({'feats': ts.tensor(x.astype(np.float32)), 'labels': ts.tensor(y.reshape(6, 1)),
         'model': {'fc': {'weight': ts.tensor(np.ones((3, 4), np.float32)), 'bias': ts.tensor(np.zeros(3, np.float32))}},
         'list': [ts.tensor(x[:2].astype(np.float32)), ts.tensor(x[2:].astype(np.float32))]}, os.path.join(out, 'run.pt'))
ts.save(ts.tensor(x.astype(np.float16)), os.path.join(out, 'bare.pt'))
`,
    dir,
    HELPERS,
  );
  copyFileSync(p('x64.npy'), p('odd.pt:feats.npy')); // a real file whose name contains ':'
}, 60_000);

const X = Array.from({ length: 24 }, (_, i) => (i - 10) / 8);

describe('parseArraySpec', () => {
  it('splits file:name after a known extension, keeps other colons', () => {
    expect(parseArraySpec('a.npy')).toEqual({ path: 'a.npy', format: 'npy' });
    expect(parseArraySpec('a.npz:feats')).toEqual({ path: 'a.npz', format: 'npz', name: 'feats' });
    expect(parseArraySpec('m.safetensors:layer4.0.conv1.weight')).toEqual({ path: 'm.safetensors', format: 'safetensors', name: 'layer4.0.conv1.weight' });
    expect(parseArraySpec('ckpt.pth:model.fc.weight')).toEqual({ path: 'ckpt.pth', format: 'pt', name: 'model.fc.weight' });
    expect(parseArraySpec('run:3/x.PT:a:b')).toEqual({ path: 'run:3/x.PT', format: 'pt', name: 'a:b' });
    expect(parseArraySpec('dir.pt/x.npy')).toEqual({ path: 'dir.pt/x.npy', format: 'npy' });
  });

  it('prefers an existing file whose whole name is the spec', () => {
    expect(parseArraySpec(p('odd.pt:feats.npy'))).toEqual({ path: p('odd.pt:feats.npy'), format: 'npy' });
  });

  it('refuses unknown extensions and names after a .npy', () => {
    expect(() => parseArraySpec('x.csv', '--features')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^--features: expected a file ending in \.npy, \.npz/) }));
    expect(() => parseArraySpec('x.npy:a')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('readFeatures', () => {
  it('converts float64, float16 and Fortran order to the same C-order float32 matrix', async () => {
    const want = { data: Float32Array.from(X), rows: 6, dim: 4 };
    expect(await readFeatures(p('x64.npy'))).toEqual(want);
    expect(await readFeatures(p('x16.npy'))).toEqual(want); // every x is exact in float16
    expect(await readFeatures(p('xT.npy'))).toEqual(want);
    expect(await readFeatures(`${p('both.npz')}:feats`)).toEqual(want);
    expect(await readFeatures(`${p('one.npz')}`)).toEqual(want);
    expect(await readFeatures(`${p('run.pt')}:feats`)).toEqual(want);
    expect(await readFeatures(p('bare.pt'))).toEqual(want);
    expect(await readFeatures(p('odd.pt:feats.npy'))).toEqual(want);
  });

  it('converts integer features', async () => {
    expect(await readFeatures(p('xint.npy'))).toEqual({ data: Float32Array.from([0, 1, 2, 3, 4, 5]), rows: 3, dim: 2 });
  });

  it('refuses 1-D features (ERR_SHAPE) and missing files (ERR_INVALID_ARGUMENT)', async () => {
    await expect(readFeatures(p('vector.npy'), '--features')).rejects.toMatchObject({ code: 'ERR_SHAPE', message: '--features: expected a 2-D array (rows × columns), got shape [6]' });
    await expect(readFeatures(p('nope.npy'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('expected an existing file') });
  });
});

describe('names', () => {
  it('reads nested dict keys and list indexes with dots', async () => {
    expect((await readArray(`${p('run.pt')}:model.fc.weight`)).shape).toEqual([3, 4]);
    expect((await readFeatures(`${p('run.pt')}:list.1`)).rows).toBe(4);
  });

  it('a name that is a group gives every array under it', async () => {
    expect([...(await readArrays(`${p('run.pt')}:model`)).keys()]).toEqual(['fc.weight', 'fc.bias']);
    expect([...(await readArrays(`${p('run.pt')}:model.fc`)).keys()]).toEqual(['weight', 'bias']);
  });

  it('an unknown name lists the names the file has', async () => {
    await expect(readArray(`${p('both.npz')}:feets`, '--features')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: `--features: expected an array named 'feats', 'labels' in ${p('both.npz')}, got 'feets'`,
    });
  });

  it('several arrays without a name is an error that lists them', async () => {
    await expect(readArray(p('both.npz'), '--features')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining(`one array: name it with ${p('both.npz')}:name, one of 'feats', 'labels', got 2 arrays`),
    });
    await expect(readArray(`${p('run.pt')}:model`)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'fc.weight', 'fc.bias'") });
  });
});

describe('readLabels', () => {
  for (const code of LABEL_CODES) {
    it(`reads ${code} labels`, async () => {
      expect(await readLabels(p(`y_${code.replace('>', 'be')}.npy`))).toEqual(Int32Array.from(LABELS));
    });
  }

  it('reads bool, (N, 1), (1, N), and labels inside .npz and .pt', async () => {
    expect(await readLabels(p('y_bool.npy'))).toEqual(Int32Array.from(LABELS, (y) => Number(y > 1)));
    expect(await readLabels(p('y_col.npy'))).toEqual(Int32Array.from(LABELS));
    expect(await readLabels(p('y_row.npy'))).toEqual(Int32Array.from(LABELS));
    expect(await readLabels(`${p('both.npz')}:labels`)).toEqual(Int32Array.from(LABELS));
    expect(await readLabels(`${p('run.pt')}:labels`)).toEqual(Int32Array.from(LABELS));
  });

  it('refuses float labels (ERR_DTYPE), 2-D labels (ERR_SHAPE), values outside int32 (ERR_LABEL_RANGE)', async () => {
    await expect(readLabels(p('y_float.npy'), '--labels')).rejects.toMatchObject({ code: 'ERR_DTYPE', message: expect.stringMatching(/^--labels: expected integer labels .*, got float32$/) });
    await expect(readLabels(p('y_2d.npy'))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(readLabels(p('y_u32big.npy'), 'y')).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE', message: 'y[1]: expected a value within int32 range, got 2147483648' });
    await expect(readLabels(p('y_i64big.npy'), 'y')).rejects.toMatchObject({ code: 'ERR_LABEL_RANGE', message: 'y[1]: expected a value within int32 range, got -2147483649' });
  });
});
