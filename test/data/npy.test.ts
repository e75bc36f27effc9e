import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../lib/data/npy.js';
import type { Tensor } from '../../lib/data/tensor.js';
import { ALL_DTYPES, SHAPES, expectFormatError, python, sample, shapeName, tmpDir } from './fixtures.js';

const dir = tmpDir();

/** A .npy file with a hand-written header dict (padded like numpy) and raw data bytes. */
function npyWithHeader(dict: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((preamble + dict.length + 1) / 64) * 64 - preamble - 1, ' ') + '\n';
  const out = new Uint8Array(preamble + padded.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(Buffer.from(padded, 'latin1'), preamble);
  out.set(data, preamble + padded.length);
  return out;
}

function dict(descr: string, shape: string, fortran = 'False'): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
}

/** Hostile bytes must fail the same way from memory and from a file. */
async function expectBadNpy(bytes: Uint8Array, name: string): Promise<string> {
  const message = expectFormatError(() => parseNpy(bytes));
  const path = join(dir, `bad-${name}.npy`);
  writeFileSync(path, bytes);
  await expect(readNpy(path)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  await expect(readNpy(path)).rejects.toThrow(path);
  return message;
}

describe('npy round trip', () => {
  for (const dtype of ALL_DTYPES) {
    for (const shape of SHAPES) {
      it(`${dtype} ${shapeName(shape)} via buffer and file`, async () => {
        const t = sample(dtype, shape);
        expect(parseNpy(encodeNpy(t))).toEqual(t);
        const path = join(dir, `rt-${dtype}-${shapeName(shape)}.npy`);
        await writeNpy(path, t);
        expect(await readNpy(path)).toEqual(t);
      });
    }
  }

  it('pads the header to 64 bytes so float data is a view, not a copy', async () => {
    const t = sample('float32', [1000, 3]);
    const bytes = encodeNpy(t);
    expect((bytes.length - t.data.byteLength) % 64).toBe(0);
    const parsed = parseNpy(bytes);
    expect(parsed.data.buffer).toBe(bytes.buffer);

    const path = join(dir, 'view.npy');
    await writeNpy(path, t);
    const read = await readNpy(path);
    // One allocation holding exactly the data: no header bytes, no second copy.
    expect(read.data.byteOffset).toBe(0);
    expect(read.data.buffer.byteLength).toBe(t.data.byteLength);
  });

  it('copies when the data is misaligned in the input buffer', () => {
    const bytes = encodeNpy(sample('float64', [5]));
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const parsed = parseNpy(shifted);
    expect(parsed.data.buffer).not.toBe(shifted.buffer);
    expect(parsed).toEqual(sample('float64', [5]));
  });

  it('writes version 2.0 when the header exceeds 64 KiB', () => {
    const t: Tensor = { dtype: 'uint8', shape: new Array<number>(30000).fill(1), data: new Uint8Array([42]) };
    const bytes = encodeNpy(t);
    expect(bytes[6]).toBe(2);
    expect(parseNpy(bytes)).toEqual(t);
  });

  it('writes atomically: replaces an existing file and leaves no temp files', async () => {
    const sub = tmpDir();
    const path = join(sub, 'x.npy');
    await writeNpy(path, sample('int32', [3]));
    await writeNpy(path, sample('int32', [4]));
    expect(readdirSync(sub)).toEqual(['x.npy']);
    expect((await readNpy(path)).shape).toEqual([4]);
    await expect(writeNpy(join(sub, 'missing', 'y.npy'), sample('int32', [1]))).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(['x.npy']);
  });

  it('rejects inconsistent tensors on write', async () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float64Array(3) })).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
    expect(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    await expect(writeNpy(join(dir, 'never.npy'), { dtype: 'uint8', shape: [-1], data: new Uint8Array(0) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});

describe('npy interop with numpy', () => {
  it('reads files written by numpy (np.save and format versions 1.0, 2.0, 3.0)', async () => {
    const out = tmpDir();
    python(
      `
out = sys.argv[1]
for dtype in NP_DTYPES:
    for shape in ${JSON.stringify(SHAPES)}:
        np.save(os.path.join(out, f'{dtype}-{shape_name(shape)}.npy'), sample(dtype, tuple(shape)))
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(out, f'v{v[0]}.npy'), 'wb') as f:
        np.lib.format.write_array(f, sample('float32', (7, 13)), version=v)
`,
      out,
    );
    for (const dtype of ALL_DTYPES) {
      for (const shape of SHAPES) {
        const path = join(out, `${dtype}-${shapeName(shape)}.npy`);
        expect(await readNpy(path), path).toEqual(sample(dtype, shape));
        expect(parseNpy(readFileSync(path)), path).toEqual(sample(dtype, shape));
      }
    }
    for (const v of [1, 2, 3]) {
      const path = join(out, `v${v}.npy`);
      expect(readFileSync(path)[6]).toBe(v);
      expect(await readNpy(path)).toEqual(sample('float32', [7, 13]));
    }
  });

  it('writes files that numpy reads back equal', async () => {
    const out = tmpDir();
    for (const dtype of ALL_DTYPES) {
      for (const shape of SHAPES) await writeNpy(join(out, `${dtype}-${shapeName(shape)}.npy`), sample(dtype, shape));
    }
    const stdout = python(
      `
out, n = sys.argv[1], 0
for dtype in NP_DTYPES:
    for shape in ${JSON.stringify(SHAPES)}:
        name = f'{dtype}-{shape_name(shape)}.npy'
        check_equal(name, np.load(os.path.join(out, name), allow_pickle=False), sample(dtype, tuple(shape)))
        n += 1
print('ok', n)
`,
      out,
    );
    expect(stdout.trim()).toBe(`ok ${ALL_DTYPES.length * SHAPES.length}`);
  });

  it('rejects what numpy writes but ncod does not support', async () => {
    const out = tmpDir();
    python(
      `
out = sys.argv[1]
np.save(os.path.join(out, 'fortran.npy'), np.asfortranarray(np.ones((3, 4), np.float32)))
np.save(os.path.join(out, 'object.npy'), np.array([1, 'a', None], dtype=object), allow_pickle=True)
np.save(os.path.join(out, 'bigendian.npy'), np.ones(5, dtype='>f4'))
np.save(os.path.join(out, 'structured.npy'), np.zeros(3, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(os.path.join(out, 'float16.npy'), np.ones(3, dtype=np.float16))
np.save(os.path.join(out, 'bool.npy'), np.ones(3, dtype=bool))
`,
      out,
    );
    const expected: Record<string, string> = {
      fortran: 'fortran_order: expected False (C order), got True',
      object: "got '|O'",
      bigendian: "got '>f4'",
      structured: 'structured dtype',
      float16: "got '<f2'",
      bool: "got '|b1'",
    };
    for (const [name, text] of Object.entries(expected)) {
      const message = await expectBadNpy(readFileSync(join(out, `${name}.npy`)), name);
      expect(message).toContain(text);
    }
  });
});

describe('npy hostile files', () => {
  const good = encodeNpy(sample('float32', [7, 13]));

  it('rejects truncation at every kind of boundary', async () => {
    for (const at of [0, 3, 6, 8, 9, 11, 40, 127, 128, 129, good.length - 1]) {
      await expectBadNpy(good.subarray(0, at), `trunc-${at}`);
    }
  });

  it('rejects trailing data', async () => {
    const bytes = new Uint8Array(good.length + 1);
    bytes.set(good);
    expect(await expectBadNpy(bytes, 'trailing')).toContain('trailing data');
  });

  it('rejects bad magic, bad versions and garbage', async () => {
    const badMagic = good.slice();
    badMagic[1] = 0x4f;
    await expectBadNpy(badMagic, 'magic');
    const badVersion = good.slice();
    badVersion[6] = 4;
    expect(await expectBadNpy(badVersion, 'version')).toContain('got 4.0');
    await expectBadNpy(Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251), 'garbage');
  });

  it('rejects header lengths past EOF or over 1 MiB before reading them', async () => {
    const pastEof = good.slice();
    new DataView(pastEof.buffer).setUint16(8, 0xffff, true);
    await expectBadNpy(pastEof, 'hlen-eof');
    const huge = npyWithHeader(dict('<f4', '(0,)'), new Uint8Array(0), 2);
    new DataView(huge.buffer).setUint32(8, 0xfffffff0, true);
    expect(await expectBadNpy(huge, 'hlen-huge')).toContain('at most 1048576');
  });

  it('rejects huge claimed shapes without allocating them', async () => {
    const data = new Uint8Array(16);
    // 10**15 x 10**15 overflows; 2**40 elements is representable but far larger than the file.
    await expectBadNpy(npyWithHeader(dict('<f4', '(1000000000000000, 1000000000000000)'), data), 'overflow');
    expect(await expectBadNpy(npyWithHeader(dict('<f4', '(1099511627776,)'), data), 'huge')).toContain('truncated');
    await expectBadNpy(npyWithHeader(dict('<f4', '(123456789012345678901234567890,)'), data), 'bignum');
  });

  it('rejects malformed header dicts', async () => {
    const cases: Record<string, string> = {
      negative: dict('<f4', '(-1, 3)'),
      float: dict('<f4', '(2.0, 3)'),
      notTuple: dict('<f4', '(3)'),
      listShape: dict('<f4', '[3]'),
      stringShape: "{'descr': '<f4', 'fortran_order': False, 'shape': '3', }",
      missingKey: "{'descr': '<f4', 'shape': (3,), }",
      extraKey: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1, }",
      duplicateKey: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
      fortranNone: dict('<f4', '(3,)', 'None'),
      code: "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (3,), }",
      unterminated: "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), ",
      trailingJunk: dict('<f4', '(3,)') + ' x',
      notDict: "['descr', '<f4']",
      deep: `{'descr': ${'('.repeat(50)}${')'.repeat(50)}, 'fortran_order': False, 'shape': (3,), }`,
      escape: "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3,), }",
      unknownDtype: dict('<c8', '(3,)'),
    };
    for (const [name, d] of Object.entries(cases)) {
      await expectBadNpy(npyWithHeader(d, new Uint8Array(12)), name);
    }
  });

  it('accepts the header variants numpy may produce', () => {
    const data = new Uint8Array([1, 2, 3]);
    const variants = [
      "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
      '{"descr": "<u1", "fortran_order": False, "shape": (3,)}',
      "{'shape': (3L,), 'fortran_order': False, 'descr': '|u1'}",
    ];
    for (const v of variants) expect(parseNpy(npyWithHeader(v, data))).toEqual({ dtype: 'uint8', shape: [3], data });
  });

  it('names the file path in messages', async () => {
    const path = join(dir, 'named.npy');
    writeFileSync(path, good.subarray(0, 100));
    await expect(readNpy(path)).rejects.toThrow(`${path}:`);
    await expect(readNpy(path)).rejects.toThrow(/expected .*, got /);
  });
});
