// IEEE 754 binary16 → float32, exactly: every half value (normal, subnormal, ±0, ±Inf, NaN) is representable in
// float32, so the conversion is a bit rearrangement, no rounding. Self-contained on purpose: lib/data is getting its
// own float16 readers and the two will be merged into one later.

// A table of all 65 536 halves as float32 costs 256 KiB and makes the conversion one lookup per element; it is built
// on first use so that loading the server does not pay for it.
let table: Float32Array | undefined;

/** The float32 value of one half given by its 16 bits. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // ±0 and subnormals: mantissa · 2^-14 · 2^-10
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) table[bits] = halfToFloat(bits);
  }
  return table;
}

/** `count` little-endian halves starting at `bytes[offset]` as float32 (any offset: the bytes need no alignment). */
export function float16ToFloat32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const t = halfTable();
  const out = new Float32Array(count);
  for (let i = 0, p = offset; i < count; i++, p += 2) out[i] = t[bytes[p] | (bytes[p + 1] << 8)];
  return out;
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
