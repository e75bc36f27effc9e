/**
 * float16 (IEEE 754 binary16) and bfloat16 bit patterns to float32. Both conversions are exact: every half and
 * every bfloat16 value is a float32 value. Inputs are the raw 16-bit patterns (Uint16Array), which is how tensors
 * of these dtypes are held (JS has no Float16Array on the Node versions ncod supports).
 */

// 65536 float32 bit patterns, one per half: 256 KiB built once, then each conversion is one load per element,
// which beats branching on the exponent per element. NaN payloads and signs are kept bit for bit.
let halfTable: Uint32Array | undefined;

function buildHalfTable(): Uint32Array {
  const table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    if (exp === 0x1f) {
      table[h] = sign | 0x7f800000 | (mant << 13); // inf (mant 0) or NaN (payload kept)
    } else if (exp !== 0) {
      table[h] = sign | ((exp + 112) << 23) | (mant << 13); // rebias 15 → 127
    } else if (mant === 0) {
      table[h] = sign; // ±0
    } else {
      // Subnormal half = mant · 2^-24: shift until the leading 1 reaches the implicit-bit position.
      let e = 113; // 127 - 15 + 1
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      table[h] = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
  }
  return table;
}

/** The float32 value of one half bit pattern. */
export function halfToFloat(bits: number): number {
  halfTable ??= buildHalfTable();
  const scratch = new Float32Array(new Uint32Array([halfTable[bits & 0xffff]]).buffer);
  return scratch[0];
}

/** Half bit patterns → float32 values, into `out` (a new array when not given). */
export function halfToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  halfTable ??= buildHalfTable();
  const table = halfTable;
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]];
  return out;
}

/** bfloat16 bit patterns → float32 values: a bfloat16 is the top half of a float32. */
export function bfloat16ToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

/** `count` little-endian halves starting at `bytes[offset]` as float32 (any offset: unaligned bytes are copied first). */
export function halfBytesToFloat32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const start = bytes.byteOffset + offset;
  if (start % 2 === 0) return halfToFloat32(new Uint16Array(bytes.buffer, start, count));
  return halfToFloat32(new Uint16Array(bytes.slice(offset, offset + 2 * count).buffer));
}

/**
 * The half nearest to `x` (ties to even), as its float32 value: what an FP16 tensor sent as JSON numbers holds, so
 * that JSON and binary FP16 requests of the same halves score alike. Beyond the half range it gives ±Infinity (which
 * the server then refuses as not finite).
 */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  // The spacing of halves near a: 2^-24 below 2^-14 (subnormals), else 2^(e-10) for a in [2^e, 2^(e+1)).
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  let step = 2 ** (e - 10);
  // log2 can be off by one near powers of two: fix e so that 2^e <= a < 2^(e+1) (or a < 2^-14 for subnormals).
  if (e > -14 && a < 2 ** e) step /= 2;
  else if (a >= 2 ** (e + 1)) step *= 2;
  const q = a / step; // exact: step is a power of two
  let m = Math.floor(q);
  const rest = q - m;
  if (rest > 0.5 || (rest === 0.5 && m % 2 === 1)) m += 1;
  const r = m * step;
  return Math.sign(x) * (r > 65504 ? Infinity : r);
}
