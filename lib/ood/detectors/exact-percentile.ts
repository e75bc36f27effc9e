// The exact q-th percentile of float32 values that arrive in batches, in bounded memory (two passes, two histograms
// of 2^16 counts), equal to sorting them all and interpolating (numpy.percentile's linear rule, as React.fit's
// in-memory `percentile` does).
//
// Method. Map each float32 to the uint32 whose unsigned order is the float order (flip every bit of a negative,
// set the sign bit of a non-negative; −0 sorts just before +0, as a Float32Array sort puts them). The answer
// interpolates between the order statistics of ranks lo = ⌊p⌋ and hi = min(lo + 1, N − 1), p = q/100·(N − 1):
//   pass 1: count the values per high 16 bits of the key; the running totals give the bin of each wanted rank and
//           its rank within that bin;
//   pass 2: count the low 16 bits of the values in those (at most two) bins; the running totals give each wanted
//           key exactly, hence the float32 order statistics.
// Counts are float64 (exact to 2^53 values). Values must be finite (the caller checks).

import { fail } from '../../errors.js';

const BINS = 1 << 16;

/** The order-preserving uint32 keys of float32 values, in place of a copy's bits. */
function keysOf(values: Float32Array): Uint32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const keys = new Uint32Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    keys[i] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  return keys;
}

function valueOfKey(key: number): number {
  const bits = key & 0x80000000 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

/** The bin holding the value of 0-based `rank` and the rank within that bin. */
function locate(counts: Float64Array, rank: number): { bin: number; within: number } {
  let before = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    if (rank < before + counts[bin]) return { bin, within: rank - before };
    before += counts[bin];
  }
  throw new Error(`rank ${rank} beyond ${before} values`); // a bug: the ranks come from the total count
}

/** One pass over the values, batch by batch; called twice, it must yield the same values both times. */
export type ValuePass = (visit: (values: Float32Array) => void) => Promise<void>;

export async function exactPercentile(pass: ValuePass, q: number): Promise<number> {
  const high = new Float64Array(BINS);
  let n = 0;
  await pass((values) => {
    const keys = keysOf(values);
    for (let i = 0; i < keys.length; i++) high[keys[i] >>> 16]++;
    n += values.length;
  });
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = locate(high, lo);
  const b = locate(high, hi);
  const lowA = new Float64Array(BINS);
  const lowB = a.bin === b.bin ? lowA : new Float64Array(BINS);
  await pass((values) => {
    const keys = keysOf(values);
    for (let i = 0; i < keys.length; i++) {
      const bin = keys[i] >>> 16;
      if (bin === a.bin) lowA[keys[i] & 0xffff]++;
      else if (bin === b.bin) lowB[keys[i] & 0xffff]++;
    }
  });
  const total = (counts: Float64Array) => counts.reduce((s, c) => s + c, 0);
  const expected = a.bin === b.bin ? high[a.bin] : high[a.bin] + high[b.bin];
  const got = a.bin === b.bin ? total(lowA) : total(lowA) + total(lowB);
  if (got !== expected) {
    fail('ERR_INVALID_ARGUMENT', 'batches', 'a source that yields the same values on every pass', 'different values in the second pass');
  }
  const vlo = valueOfKey(((a.bin << 16) | locate(lowA, a.within).bin) >>> 0);
  const vhi = valueOfKey(((b.bin << 16) | locate(lowB, b.within).bin) >>> 0);
  return vlo + (pos - lo) * (vhi - vlo); // the in-memory rule, on the same two float32 order statistics
}
