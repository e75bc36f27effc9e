// Small ServableDetector fakes for the server tests: a deterministic score (−Σx², in float64), an optional delay so
// that concurrent requests pile up into batches, and a record of every call's row count.
import type { ServableDetector } from '../../lib/serve/types.js';

export interface FakeDetector extends ServableDetector {
  /** Rows per score/decide call, in call order. */
  readonly calls: number[];
  disposed: boolean;
}

export function fakeScore(rows: Float32Array, dim: number): Float64Array {
  const out = new Float64Array(rows.length / dim);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j] * rows[i * dim + j];
    out[i] = -s + 1 / 3; // a non-terminating binary fraction: JSON must carry all 17 digits
  }
  return out;
}

export function fakeDetector({
  dim = 4,
  input = 'features',
  calibration,
  delayMs = 0,
  method = 'fake',
}: {
  dim?: number;
  input?: 'features' | 'logits';
  calibration?: { tpr: number; threshold: number; n: number };
  delayMs?: number;
  method?: string;
} = {}): FakeDetector {
  const calls: number[] = [];
  const wait = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  const det: FakeDetector = {
    method,
    input: { name: input, dim },
    calibration,
    calls,
    disposed: false,
    async score(rows) {
      calls.push(rows.length / dim);
      if (delayMs) await wait();
      return fakeScore(rows, dim);
    },
    async decide(rows) {
      if (!calibration) throw new Error('decide without a calibration');
      calls.push(rows.length / dim);
      if (delayMs) await wait();
      const score = fakeScore(rows, dim);
      const isOOD = Uint8Array.from(score, (s) => (s < calibration.threshold ? 1 : 0));
      const pValue = Float64Array.from(score, (s) => 1 / (1 + Math.exp(calibration.threshold - s)));
      return { score, pValue, isOOD };
    },
    dispose() {
      det.disposed = true;
    },
  };
  return det;
}
