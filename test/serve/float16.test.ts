// FP16 → FP32 is exact for every half; JSON FP16 numbers round to the nearest half, ties to even.
import { describe, expect, it } from 'vitest';

import { halfBytesToFloat32 as float16ToFloat32, halfToFloat, roundToHalf } from '../../lib/data/half.js';

describe('float16', () => {
  it('converts the special and boundary halves exactly', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504], // largest normal
      [0x0400, 2 ** -14], // smallest normal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    for (const [bits, value] of cases) expect(halfToFloat(bits)).toBe(value);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0xfc01)).toBeNaN();
  });

  it('reads little-endian halves at an odd offset', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]);
    expect(Array.from(float16ToFloat32(bytes, 1, 3))).toEqual([1, -2, 2 ** -24]);
  });

  it('agrees with a bit-level reference on all 65536 halves, and roundToHalf inverts it', () => {
    const bytes = new Uint8Array(2 * 65536);
    for (let b = 0; b < 65536; b++) [bytes[2 * b], bytes[2 * b + 1]] = [b & 0xff, b >> 8];
    const all = float16ToFloat32(bytes, 0, 65536);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const sign = (b & 0x8000) << 16;
      const exp = (b >> 10) & 0x1f;
      const man = b & 0x3ff;
      if (exp === 0x1f) {
        u32[0] = sign | 0x7f800000 | (man << 13);
      } else if (exp === 0) {
        f32[0] = (sign ? -1 : 1) * man * 2 ** -24;
      } else {
        u32[0] = sign | ((exp - 15 + 127) << 23) | (man << 13);
      }
      const ok = Number.isNaN(f32[0]) ? Number.isNaN(all[b]) : Object.is(all[b], f32[0]) && Object.is(roundToHalf(all[b]), all[b]);
      if (!ok) wrong.push(b);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to the nearest half, ties to even, and overflows to infinity', () => {
    expect(roundToHalf(1 + 2 ** -11)).toBe(1); // tie between 1 and 1 + 2^-10: even mantissa
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 * 2 ** -10);
    expect(roundToHalf(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10);
    expect(roundToHalf(0.1)).toBe(halfToFloat(0x2e66));
    expect(roundToHalf(2 ** -25)).toBe(0); // tie with 0 and 2^-24: even
    expect(roundToHalf(3 * 2 ** -26)).toBe(2 ** -24);
    expect(roundToHalf(65519)).toBe(65504);
    expect(roundToHalf(65520)).toBe(Infinity);
    expect(roundToHalf(-1e9)).toBe(-Infinity);
  });
});
