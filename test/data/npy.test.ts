import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../lib/data/npy.js';
import { toFloat32, type Tensor } from '../../lib/data/tensor.js';
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
np.save(os.path.join(out, 'object.npy'), np.array([1, 'a', None], dtype=object), allow_pickle=True)
np.save(os.path.join(out, 'structured.npy'), np.zeros(3, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(os.path.join(out, 'complex.npy'), np.ones(3, dtype=np.complex64))
np.save(os.path.join(out, 'longdouble.npy'), np.ones(3, dtype=np.longdouble))
np.save(os.path.join(out, 'string.npy'), np.array(['ab', 'c']))
np.save(os.path.join(out, 'datetime.npy'), np.array(['2020-01-01'], dtype='datetime64[D]'))
`,
      out,
    );
    const expected: Record<string, string> = {
      object: "got '|O'",
      structured: 'structured dtype',
      complex: "got '<c8'",
      longdouble: "got '<f16'",
      string: "got '<U2'",
      datetime: "got '<M8[D]'",
    };
    for (const [name, text] of Object.entries(expected)) {
      const message = await expectBadNpy(readFileSync(join(out, `${name}.npy`)), name);
      expect(message).toContain(text);
      if (name !== 'structured') expect(message).toContain("'<f2'"); // the message lists what is accepted
    }
  });
});

describe('npy dtypes, byte orders and Fortran order', () => {
  const CODES = ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1'];
  const DTYPE_OF: Record<string, string> = { f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'uint8' };
  const out = tmpDir();
  let reference: Record<string, string[]>;

  it('numpy writes every dtype in both byte orders and both memory orders', () => {
    // Values in C order as strings (exact for 64-bit ints); the first and last elements are the type's extremes.
    reference = JSON.parse(
      python(
        `
out, ref = sys.argv[1], {}
for code in ${JSON.stringify(CODES)}:
    i = np.arange(60)
    if code == 'b1':
        a = (i % 3 == 0)
    elif code[0] == 'f':
        a = ((i - 30) * 0.25).astype('<' + code)
        a[0], a[-1] = np.finfo(a.dtype).min, np.finfo(a.dtype).max
    else:
        info = np.iinfo(np.dtype('<' + code))
        a = ((i * 37) % 251 - (120 if code[0] == 'i' else 0)).astype('<' + code)
        a[0], a[-1] = info.min, info.max
    a = a.reshape(3, 4, 5)
    ref[code] = [str(int(v)) if code[0] != 'f' else repr(float(v)) for v in a.ravel()]
    for order in '<>':
        typed = a if code in ('b1', 'i1', 'u1') else a.astype(a.dtype.newbyteorder(order))
        np.save(os.path.join(out, f'{code}{"be" if order == ">" else "le"}-c.npy'), np.ascontiguousarray(typed))
        np.save(os.path.join(out, f'{code}{"be" if order == ">" else "le"}-f.npy'), np.asfortranarray(typed))
print(json.dumps(ref))
`,
        out,
      ),
    ) as Record<string, string[]>;
    expect(Object.keys(reference)).toEqual(CODES);
  });

  for (const code of CODES) {
    it(`${code}: little/big endian × C/Fortran order all read as the same C-order values`, async () => {
      const want = reference[code];
      for (const variant of ['le-c', 'le-f', 'be-c', 'be-f']) {
        const path = join(out, `${code}${variant}.npy`);
        const bytes = readFileSync(path);
        if (variant.endsWith('-f')) expect(bytes.toString('latin1', 0, 128)).toContain("'fortran_order': True");
        if (variant.startsWith('be') && !['b1', 'i1', 'u1'].includes(code)) expect(bytes.toString('latin1', 0, 128)).toContain(`'>${code}'`);
        const before = Buffer.from(bytes);
        for (const t of [await readNpy(path), parseNpy(bytes)]) {
          expect(t.dtype, variant).toBe(DTYPE_OF[code]);
          expect(t.shape, variant).toEqual([3, 4, 5]);
          const values = code[0] === 'f' ? Array.from(toFloat32(t), (v) => v) : Array.from(t.data as ArrayLike<number | bigint>, (v) => String(v));
          const expected = code[0] === 'f' ? want.map((v) => Math.fround(Number(v.replace('inf', 'Infinity')))) : want;
          expect(values, `${code} ${variant}`).toEqual(expected);
        }
        // Swapping a big-endian file parsed from memory must not touch the caller's bytes.
        expect(Buffer.compare(bytes, before)).toBe(0);
      }
    });
  }

  it('writes float16, int8/16, uint16/32/64 that numpy reads back; bfloat16 has no numpy dtype', async () => {
    const tensors: Record<string, Tensor> = {
      f2: { dtype: 'float16', shape: [2, 2], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]) },
      i1: { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
      i2: { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
      u2: { dtype: 'uint16', shape: [1], data: Uint16Array.from([65535]) },
      u4: { dtype: 'uint32', shape: [1], data: Uint32Array.from([4294967295]) },
      u8: { dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
    };
    for (const [name, t] of Object.entries(tensors)) {
      await writeNpy(join(out, `w-${name}.npy`), t);
      expect(parseNpy(encodeNpy(t))).toEqual(t);
    }
    const got = python(
      `print(json.dumps({n: [str(np.load(os.path.join(sys.argv[1], f'w-{n}.npy')).dtype)] + [repr(x) for x in np.load(os.path.join(sys.argv[1], f'w-{n}.npy')).ravel().tolist()] for n in ['f2', 'i1', 'i2', 'u2', 'u4', 'u8']}))`,
      out,
    );
    expect(JSON.parse(got)).toEqual({
      f2: ['float16', '1.0', '-2.0', '65504.0', '5.960464477539063e-08'],
      i1: ['int8', '-128', '127'],
      i2: ['int16', '-32768', '32767'],
      u2: ['uint16', '65535'],
      u4: ['uint32', '4294967295'],
      u8: ['uint64', '18446744073709551615'],
    });
    const bf16: Tensor = { dtype: 'bfloat16', shape: [1], data: Uint16Array.from([0x3f80]) };
    expect(() => encodeNpy(bf16)).toThrow(expect.objectContaining({ code: 'ERR_DTYPE', message: expect.stringContaining('bfloat16') }));
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
