// float16 and bfloat16 → float32 against float64 references from numpy, for every one of the 65536 bit patterns.
import { describe, expect, it } from 'vitest';
import { bfloat16ToFloat32, halfToFloat, halfToFloat32 } from '../../lib/data/half.js';
import { python } from './fixtures.js';

const ALL = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** numpy's float16 → float64 of every pattern, as JSON (NaN → null, ±inf → strings). */
function numpyHalfReference(): (number | string | null)[] {
  const out = python(`
np.seterr(all='ignore')
v = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float64)
print(json.dumps([None if np.isnan(x) else (repr(float(x)) if np.isinf(x) else float(x)) for x in v]))`);
  return JSON.parse(out) as (number | string | null)[];
}

describe('half → float32', () => {
  it('matches numpy astype for all 65536 patterns (zeros, subnormals, normals, max, inf, NaN)', () => {
    const ref = numpyHalfReference();
    const got = halfToFloat32(ALL);
    let nans = 0;
    for (let i = 0; i < 65536; i++) {
      const r = ref[i];
      if (r === null) {
        expect(got[i], `0x${i.toString(16)}`).toBeNaN();
        nans++;
      } else {
        const want = typeof r === 'string' ? (r.startsWith('-') ? -Infinity : Infinity) : r;
        if (got[i] !== want || Object.is(got[i], -0) !== Object.is(want, -0)) expect.fail(`0x${i.toString(16)}: ${got[i]} != ${want}`);
      }
    }
    expect(nans).toBe(2 * 1023);
  });

  it('known values: the smallest subnormal, the largest subnormal, the smallest normal, max, -0', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0xfbff)).toBe(-65504);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('keeps NaN payloads and signs bit for bit (quiet NaN 0x7e01 → 0x7fc02000)', () => {
    const bits = new Uint32Array(halfToFloat32(Uint16Array.from([0x7e01, 0xfe00, 0x7c01])).buffer);
    expect(Array.from(bits, (b) => b.toString(16))).toEqual(['7fc02000', 'ffc00000', '7f802000']);
  });

  it('writes into a given output array (a view at an offset)', () => {
    const out = new Float32Array(6);
    halfToFloat32(Uint16Array.from([0x3c00, 0xc000]), out.subarray(3, 5));
    expect(Array.from(out)).toEqual([0, 0, 0, 1, -2, 0]);
  });
});

describe('bfloat16 → float32', () => {
  it('is the top half of the float32 bits, for every pattern (float64 reference from numpy)', () => {
    const ref = JSON.parse(
      python(`
np.seterr(all='ignore')
v = (np.arange(65536, dtype=np.uint32) << 16).view(np.float32).astype(np.float64)
print(json.dumps([None if np.isnan(x) else (repr(float(x)) if np.isinf(x) else float(x)) for x in v]))`),
    ) as (number | string | null)[];
    const got = bfloat16ToFloat32(ALL);
    for (let i = 0; i < 65536; i++) {
      const r = ref[i];
      if (r === null) {
        if (!Number.isNaN(got[i])) expect.fail(`0x${i.toString(16)}: expected NaN, got ${got[i]}`);
        continue;
      }
      const want = typeof r === 'string' ? (r.startsWith('-') ? -Infinity : Infinity) : r;
      if (got[i] !== want) expect.fail(`0x${i.toString(16)}: ${got[i]} != ${want}`);
    }
    expect(bfloat16ToFloat32(Uint16Array.from([0x3f80, 0x0001, 0x7f7f]))).toEqual(Float32Array.from([1, 2 ** -133, 3.3895313892515355e38]));
  });
});
