import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../../lib/data/safetensors.js';
import { toFloat32, type Tensor } from '../../lib/data/tensor.js';
import { ALL_DTYPES, SHAPES, expectFormatError, python, sample, shapeName, tmpDir } from './fixtures.js';

const dir = tmpDir();

function allSamples(): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const dtype of ALL_DTYPES) for (const shape of SHAPES) m.set(`${dtype}_${shapeName(shape)}`, sample(dtype, shape));
  return m;
}

/** A file from a raw header object and data buffer, padded like the reference writer. */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const json = Buffer.from(headerText.padEnd(Math.ceil(headerText.length / 8) * 8, ' '));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function expectBadSafetensors(bytes: Uint8Array, name: string): Promise<string> {
  const message = expectFormatError(() => parseSafetensors(bytes));
  const path = join(dir, `bad-${name}.safetensors`);
  writeFileSync(path, bytes);
  await expect(readSafetensors(path)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  return message;
}

describe('safetensors round trip', () => {
  it('round-trips every dtype and shape, with metadata, via buffer and file', async () => {
    const tensors = allSamples();
    const metadata = { format: 'pt', note: 'héllo "quoted"' };
    expect(parseSafetensors(encodeSafetensors(tensors, metadata))).toEqual({ tensors, metadata });
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, tensors, metadata);
    expect(await readSafetensors(path)).toEqual({ tensors, metadata });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('round-trips an empty file and odd names', () => {
    expect(parseSafetensors(encodeSafetensors(new Map()))).toEqual({ tensors: new Map(), metadata: {} });
    const odd = new Map<string, Tensor>([
      ['__proto__', sample('uint8', [2])],
      ['a.weight', sample('float32', [2, 2])],
    ]);
    expect(parseSafetensors(encodeSafetensors(odd)).tensors).toEqual(odd);
  });

  it('aligns tensors so reads are views, not copies', () => {
    const tensors = new Map<string, Tensor>([
      ['u8', sample('uint8', [3])],
      ['f64', sample('float64', [5])],
      ['i32', sample('int32', [3])],
    ]);
    const bytes = encodeSafetensors(tensors);
    for (const t of parseSafetensors(bytes).tensors.values()) expect(t.data.buffer).toBe(bytes.buffer);
  });

  it('rejects bad arguments on write', () => {
    expect(() => encodeSafetensors(new Map([['__metadata__', sample('uint8', [1])]]))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => encodeSafetensors(new Map(), { a: 1 as unknown as string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => encodeSafetensors(new Map([['x', { dtype: 'int32', shape: [2], data: new Int32Array(3) }]]))).toThrow(
      expect.objectContaining({ code: 'ERR_SHAPE' }),
    );
  });
});

// python's safetensors package is not assumed: these read and write the format by hand with json + numpy.
describe('safetensors interop with python', () => {
  const PY_CODES = `CODES = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64, 'U8': np.uint8}`;

  it('writes files that python reads back equal', async () => {
    const path = join(dir, 'to-python.safetensors');
    await writeSafetensors(path, allSamples(), { source: 'ncod' });
    const stdout = python(
      `
${PY_CODES}
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
assert n % 8 == 0
header = json.loads(raw[8:8 + n])
assert header.pop('__metadata__') == {'source': 'ncod'}
buf = raw[8 + n:]
for name, e in header.items():
    dtype, shape = name.split('_')
    shape = () if shape == 'scalar' else tuple(int(d) for d in shape.split('x'))
    b, end = e['data_offsets']
    got = np.frombuffer(buf[b:end], dtype=CODES[e['dtype']]).reshape(e['shape'])
    check_equal(name, got, sample(dtype, shape))
print('ok', len(header))
`,
      path,
    );
    expect(stdout.trim()).toBe(`ok ${ALL_DTYPES.length * SHAPES.length}`);
  });

  it('reads files written by python', async () => {
    const path = join(dir, 'from-python.safetensors');
    python(
      `
${PY_CODES}
NAMES = {v: k for k, v in CODES.items()}
header, chunks, offset = {'__metadata__': {'framework': 'numpy'}}, [], 0
for dtype in NP_DTYPES:
    for shape in ${JSON.stringify(SHAPES)}:
        a = sample(dtype, tuple(shape))
        header[f'{dtype}_{shape_name(shape)}'] = {'dtype': NAMES[a.dtype.type], 'shape': list(a.shape), 'data_offsets': [offset, offset + a.nbytes]}
        chunks.append(a.tobytes())
        offset += a.nbytes
text = json.dumps(header).encode()
text += b' ' * (-len(text) % 8)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))
`,
      path,
    );
    expect(await readSafetensors(path)).toEqual({ tensors: allSamples(), metadata: { framework: 'numpy' } });
  });
});

describe('safetensors hostile files', () => {
  const tensors = new Map<string, Tensor>([
    ['a', sample('float32', [7, 13])],
    ['b', sample('int64', [3])],
  ]);
  const good = encodeSafetensors(tensors);
  const data8 = new Uint8Array(8);

  it('rejects truncation at several points (length, header, body)', async () => {
    expect(await expectBadSafetensors(good.subarray(0, good.length - 100), 'body')).toContain('truncated');
    for (const at of [0, 4, 7, 8, 20, good.length - 400, good.length - 100, good.length - 1]) await expectBadSafetensors(good.subarray(0, at), `trunc-${at}`);
  });

  it('rejects trailing data', async () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(await expectBadSafetensors(longer, 'trailing')).toContain('trailing data');
  });

  it('rejects header lengths past EOF or over 100 MiB', async () => {
    const pastEof = good.slice();
    new DataView(pastEof.buffer).setBigUint64(0, BigInt(good.length), true);
    await expectBadSafetensors(pastEof, 'hlen-eof');
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(await expectBadSafetensors(huge, 'hlen-huge')).toContain('at most 104857600');
  });

  it('rejects altered header bytes', async () => {
    const text = new TextDecoder().decode(good.subarray(8, 8 + Number(new DataView(good.buffer).getBigUint64(0, true))));
    const alter = (from: string, to: string) => {
      const bytes = good.slice();
      const at = text.indexOf(from);
      expect(at).toBeGreaterThanOrEqual(0);
      bytes.set(Buffer.from(to), 8 + at);
      return bytes;
    };
    await expectBadSafetensors(alter('{', 'x'), 'json');
    await expectBadSafetensors(alter('"F32"', '"F16"'), 'dtype');
    await expectBadSafetensors(alter('[7,13]', '[7,12]'), 'shape');
    await expectBadSafetensors(alter('"shape"', '"shapf"'), 'key');
    const invalidUtf8 = good.slice();
    invalidUtf8[8 + text.indexOf('"a"') + 1] = 0xff;
    await expectBadSafetensors(invalidUtf8, 'utf8');
  });

  it('rejects overlapping, gapped and out-of-range offsets', async () => {
    const t = (offsets: number[]) => ({ dtype: 'U8', shape: [4], data_offsets: offsets });
    expect(await expectBadSafetensors(rawFile({ x: t([0, 4]), y: t([2, 6]) }, data8), 'overlap')).toContain('overlaps');
    expect(await expectBadSafetensors(rawFile({ x: t([0, 4]), y: t([0, 4]) }, new Uint8Array(4)), 'same')).toContain('overlaps');
    expect(await expectBadSafetensors(rawFile({ x: t([4, 8]) }, data8), 'gap')).toContain('gap');
    const past = { dtype: 'U8', shape: [8], data_offsets: [0, 8] };
    expect(await expectBadSafetensors(rawFile({ x: past }, new Uint8Array(4)), 'past-end')).toContain('truncated');
    await expectBadSafetensors(rawFile({ x: t([6, 2]) }, data8), 'reversed');
    await expectBadSafetensors(rawFile({ x: t([-4, 0]) }, data8), 'negative');
    await expectBadSafetensors(rawFile({ x: t([0, 4.5]) }, data8), 'fraction');
  });

  it('rejects malformed header structure', async () => {
    const ok = { dtype: 'U8', shape: [8], data_offsets: [0, 8] };
    const cases: Record<string, Uint8Array> = {
      array: rawFile([ok], data8),
      nullHeader: rawFile(null, data8),
      entryNotObject: rawFile({ x: 5 }, data8),
      metadataNotObject: rawFile({ __metadata__: 'x', x: ok }, data8),
      metadataNotString: rawFile({ __metadata__: { n: 1 }, x: ok }, data8),
      extraKey: rawFile({ x: { ...ok, extra: 1 } }, data8),
      missingKey: rawFile({ x: { dtype: 'U8', shape: [8] } }, data8),
      hugeShape: rawFile({ x: { ...ok, shape: [1e15, 1e15] } }, data8),
      negativeShape: rawFile({ x: { ...ok, shape: [-8] } }, data8),
      fp8: rawFile({ x: { ...ok, dtype: 'F8_E4M3', shape: [8] } }, data8),
      complex: rawFile({ x: { ...ok, dtype: 'C64', shape: [1] } }, data8),
      oneOffset: rawFile({ x: { ...ok, data_offsets: [0] } }, data8),
      notJson: rawFile(null, data8, "{'x': 1}"),
      tooShort: new Uint8Array(5),
    };
    for (const [name, bytes] of Object.entries(cases)) await expectBadSafetensors(bytes, name);
  });
});

describe('safetensors dtypes', () => {
  it('reads F16, BF16, F32, F64, I8..I64, U8..U64 and BOOL as the reference layout writes them', () => {
    // The layout of the safetensors library (8-byte length, JSON header, little-endian data), written by hand.
    const path = join(dir, 'dtypes.safetensors');
    python(
      `
arrays = {
    'F16': np.array([1, -2, 65504, 2**-24], '<f2'), 'F32': np.array([0.1, -3], '<f4'), 'F64': np.array([1e300, -0.1], '<f8'),
    'BF16': np.array([0x3f80, 0xc000, 0x7f80], '<u2'), 'I8': np.array([-128, 127], 'i1'), 'I16': np.array([-32768, 32767], '<i2'),
    'I32': np.array([-2**31, 2**31 - 1], '<i4'), 'I64': np.array([-2**63, 2**63 - 1], '<i8'), 'U8': np.array([0, 255], 'u1'),
    'U16': np.array([65535], '<u2'), 'U32': np.array([2**32 - 1], '<u4'), 'U64': np.array([2**64 - 1], '<u8'), 'BOOL': np.array([True, False]),
}
header, blobs, offset = {}, [], 0
for code, a in arrays.items():
    b = a.tobytes()
    header['t_' + code] = {'dtype': code, 'shape': [len(a)], 'data_offsets': [offset, offset + len(b)]}
    blobs.append(b)
    offset += len(b)
h = json.dumps(header).encode()
h += b' ' * (-len(h) % 8)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
`,
      path,
    );
    return readSafetensors(path).then(({ tensors }) => {
      const get = (code: string) => tensors.get(`t_${code}`)!;
      expect(get('F16').dtype).toBe('float16');
      expect(Array.from(toFloat32(get('F16')))).toEqual([1, -2, 65504, 2 ** -24]);
      expect(get('BF16').dtype).toBe('bfloat16');
      expect(Array.from(toFloat32(get('BF16')))).toEqual([1, -2, Infinity]);
      expect(get('F32').data).toEqual(Float32Array.from([0.1, -3]));
      expect(get('F64').data).toEqual(Float64Array.from([1e300, -0.1]));
      expect(get('I8').data).toEqual(Int8Array.from([-128, 127]));
      expect(get('I16').data).toEqual(Int16Array.from([-32768, 32767]));
      expect(get('I32').data).toEqual(Int32Array.from([-(2 ** 31), 2 ** 31 - 1]));
      expect(get('I64').data).toEqual(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]));
      expect(get('U8').data).toEqual(Uint8Array.from([0, 255]));
      expect(get('U16').data).toEqual(Uint16Array.from([65535]));
      expect(get('U32').data).toEqual(Uint32Array.from([2 ** 32 - 1]));
      expect(get('U64').data).toEqual(BigUint64Array.from([2n ** 64n - 1n]));
      expect(get('BOOL')).toEqual({ dtype: 'uint8', shape: [2], data: Uint8Array.from([1, 0]) });
    });
  });

  it('writes every dtype with its code and reads it back equal', () => {
    const tensors = new Map<string, Tensor>([
      ['h', { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0x8001]) }],
      ['b', { dtype: 'bfloat16', shape: [1], data: Uint16Array.from([0x3f80]) }],
      ['i8', { dtype: 'int8', shape: [1], data: Int8Array.from([-5]) }],
      ['u64', { dtype: 'uint64', shape: [1], data: BigUint64Array.from([7n]) }],
    ]);
    const bytes = encodeSafetensors(tensors);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toString());
    expect([header.h.dtype, header.b.dtype, header.i8.dtype, header.u64.dtype]).toEqual(['F16', 'BF16', 'I8', 'U64']);
    expect(parseSafetensors(bytes).tensors).toEqual(tensors);
  });
});
