// Streaming readers: every layout numpy/safetensors write, read in tiny chunks, equals the whole-file readers;
// shards, damaged files and mismatched shards fail with codes.
import { writeFileSync, truncateSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArray, toFeatures, toLabels } from '../../lib/data/read-array.js';
import { ArrayStream, maxLabelOf, openFeatureSource } from '../../lib/data/stream/source.js';
import { expandShards } from '../../lib/data/stream/shards.js';
import { python, tmpDir } from './fixtures.js';

const dir = tmpDir();

// Rows 0..N-1 of a 2-D array whose values encode (row, column), so any misplaced element shows.
python(
  `
import numpy as np, zipfile, os, sys
d = sys.argv[1]
N, D = 103, 7
x = (np.arange(N)[:, None] * 100 + np.arange(D)[None, :]).astype(np.float64) / 8
np.save(os.path.join(d, 'c64.npy'), x)
np.save(os.path.join(d, 'c32be.npy'), x.astype('>f4'))
np.save(os.path.join(d, 'f16.npy'), x.astype(np.float16))
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(x.astype(np.float32)))
np.save(os.path.join(d, 'fortranbe.npy'), np.asfortranarray(x.astype('>f8')))
np.savez(os.path.join(d, 'stored.npz'), a=x.astype(np.float32), b=np.asfortranarray(x))
np.savez_compressed(os.path.join(d, 'deflated.npz'), a=x.astype(np.float32), f=np.asfortranarray(x), y=(np.arange(N) % 5).astype(np.int16))
y = (np.arange(N) % 5)
np.save(os.path.join(d, 'y8.npy'), y.astype(np.int8))
np.save(os.path.join(d, 'ycol.npy'), y.astype(np.int64)[:, None])
for k, (a, b) in enumerate([(0, 40), (40, 41), (41, 103)]):
    np.save(os.path.join(d, f'part-{k * 5}.npy'), x[a:b].astype(np.float32))
    np.save(os.path.join(d, f'ypart-{k * 5}.npy'), y[a:b].astype(np.int32))
# safetensors by hand: header JSON + data
import json, struct
a = x.astype(np.float32); b = x.astype(np.float16)
hdr = {'a': {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [0, a.nbytes]},
       'h': {'dtype': 'F16', 'shape': list(b.shape), 'data_offsets': [a.nbytes, a.nbytes + b.nbytes]}}
h = json.dumps(hdr).encode()
with open(os.path.join(d, 'feats.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h); f.write(a.tobytes()); f.write(b.tobytes())
`,
  dir,
);

const N = 103;
const D = 7;
const expected = (i: number, j: number) => (i * 100 + j) / 8;

async function streamed(spec: string, chunkRows: number): Promise<Float32Array> {
  const source = await openFeatureSource({ features: spec, chunkRows });
  const out = new Float32Array(source.rows * source.dim);
  let offset = 0;
  for await (const batch of source) {
    expect(batch.features.length).toBeLessThanOrEqual(chunkRows * source.dim);
    out.set(batch.features, offset);
    offset += batch.features.length;
  }
  expect(offset).toBe(out.length);
  return out;
}

describe('streaming readers', () => {
  const specs = ['c64.npy', 'c32be.npy', 'f16.npy', 'fortran.npy', 'fortranbe.npy', 'stored.npz:a', 'stored.npz:b', 'deflated.npz:a', 'deflated.npz:f', 'feats.safetensors:a', 'feats.safetensors:h'];
  for (const spec of specs) {
    it(`${spec} in chunks of 1, 10 and all rows equals the whole-file reader`, async () => {
      const whole = toFeatures(await readArray(join(dir, spec)));
      expect(whole.rows).toBe(N);
      for (const chunk of [1, 10, 1000]) {
        const got = await streamed(join(dir, spec), chunk);
        expect(got).toEqual(whole.data);
      }
      expect(whole.data[13 * D + 4]).toBe(Math.fround(expected(13, 4)));
    });
  }

  it('shards by glob in natural order (part-5 before part-10), and by comma list', async () => {
    const shards = await expandShards(join(dir, 'part-*.npy'), 'features');
    expect(shards.map((s) => s.path.slice(dir.length + 1))).toEqual(['part-0.npy', 'part-5.npy', 'part-10.npy']);
    const globbed = await streamed(join(dir, 'part-*.npy'), 16);
    const whole = toFeatures(await readArray(join(dir, 'c64.npy'))).data;
    expect(globbed).toEqual(whole);
    const listed = await streamed(['part-0.npy', 'part-5.npy', 'part-10.npy'].map((f) => join(dir, f)).join(','), 7);
    expect(listed).toEqual(whole);
  });

  it('labels of any integer dtype and shape (N,1), sharded or not, line up with the feature chunks', async () => {
    const reference = toLabels(await readArray(join(dir, 'y8.npy')));
    for (const labels of ['y8.npy', 'ycol.npy', 'deflated.npz:y', 'ypart-*.npy']) {
      const source = await openFeatureSource({ features: join(dir, 'part-*.npy'), labels: join(dir, labels), chunkRows: 9 });
      const got: number[] = [];
      for await (const batch of source) {
        expect(batch.labels!.length).toBe(batch.features.length / D);
        got.push(...batch.labels!);
      }
      expect(Int32Array.from(got)).toEqual(reference);
      expect(await maxLabelOf(await ArrayStream.open(join(dir, labels), 'labels'))).toBe(4);
    }
  });

  it('a source iterates again from the start', async () => {
    const source = await openFeatureSource({ features: join(dir, 'deflated.npz:a'), chunkRows: 50 });
    const rows = async () => {
      let n = 0;
      for await (const b of source) n += b.features.length / D;
      return n;
    };
    expect(await rows()).toBe(N);
    expect(await rows()).toBe(N);
  });

  it('mismatched shards: row counts (ERR_SHAPE), widths (ERR_SHAPE), truncated shard (ERR_FILE_FORMAT), no match', async () => {
    python(
      `
import numpy as np, os, sys
d = sys.argv[1]
np.save(os.path.join(d, 'bad-w-0.npy'), np.zeros((4, 7), np.float32))
np.save(os.path.join(d, 'bad-w-1.npy'), np.zeros((4, 6), np.float32))
np.save(os.path.join(d, 'yshort-0.npy'), np.zeros(40, np.int32))
np.save(os.path.join(d, 'yshort-1.npy'), np.zeros(2, np.int32))
np.save(os.path.join(d, 'yshort-2.npy'), np.zeros(61, np.int32))
`,
      dir,
    );
    await expect(ArrayStream.open(join(dir, 'bad-w-*.npy'), 'features')).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(openFeatureSource({ features: join(dir, 'part-*.npy'), labels: join(dir, 'yshort-*.npy') })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(openFeatureSource({ features: join(dir, 'part-*.npy'), labels: `${join(dir, 'y8.npy')},${join(dir, 'y8.npy')}` })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(ArrayStream.open(join(dir, 'nothing-*.npy'), 'features')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    writeFileSync(join(dir, 'trunc-0.npy'), readFileSync(join(dir, 'part-0.npy')));
    writeFileSync(join(dir, 'trunc-1.npy'), readFileSync(join(dir, 'part-10.npy')));
    truncateSync(join(dir, 'trunc-1.npy'), readFileSync(join(dir, 'part-10.npy')).length - 5);
    await expect(ArrayStream.open(join(dir, 'trunc-*.npy'), 'features')).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  });

  it('a damaged deflated member fails with ERR_FILE_FORMAT by the end of the pass', async () => {
    const bytes = readFileSync(join(dir, 'deflated.npz'));
    // Flip a byte well inside the first member's compressed data.
    const damaged = Buffer.from(bytes);
    damaged[400] ^= 0x55;
    writeFileSync(join(dir, 'damaged.npz'), damaged);
    const run = async () => {
      const source = await openFeatureSource({ features: join(dir, 'damaged.npz:a'), chunkRows: 10 });
      for await (const _ of source) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
  });
});
