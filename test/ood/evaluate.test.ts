import { describe, expect, it } from 'vitest';
import { NcodError } from '../../lib/errors.js';
import { mulberry32 } from '../../lib/ood/bootstrap.js';
import { evaluateOOD, rocCurve, type OODMetricName } from '../../lib/ood/evaluate.js';
import { sklearnMetrics, type SklearnCase, type SklearnResult } from './sklearn.js';

const METRICS: OODMetricName[] = [
  'auroc',
  'fpr95',
  'fpr95_ood_positive',
  'aupr_in',
  'aupr_out',
  'ap_in',
  'ap_out',
  'detection_error',
];

/** Seeded normal samples (Box–Muller) so every run compares the same data. */
function normal(n: number, mean: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng(); // (0, 1]: log stays finite
    out[i] = mean + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  }
  return out;
}

const map = (a: Float64Array, f: (x: number) => number) => a.map(f);
const fill = (n: number, v: number) => new Float64Array(n).fill(v);
const range = (n: number, start = 0) => Float64Array.from({ length: n }, (_, i) => start + i);

interface Case extends SklearnCase {
  name: string;
}

const cases: Case[] = [];
const add = (name: string, id: Float64Array, ood: Float64Array, extra: Partial<SklearnCase> = {}) =>
  cases.push({ name, id, ood, ...extra });

// Random continuous scores, several sizes (1, primes, 10^5), shifted so the detector is informative.
let seed = 1;
for (const [nId, nOod] of [
  [1, 1],
  [1, 7],
  [7, 1],
  [2, 3],
  [13, 17],
  [101, 97],
  [1009, 997],
  [10007, 4999],
  [100_000, 100_000],
]) {
  add(`random ${nId}/${nOod}`, normal(nId, 1, seed++), normal(nOod, 0, seed++));
}
// Sizes where 0.05·N is exactly .5 (10 → 0.5, 30 → 1.5, 50 → 2.5, 70 → 3.5): round-half-even matters.
for (const nId of [10, 30, 50, 70]) add(`random half-way ${nId}`, normal(nId, 1, seed++), normal(40, 0, seed++));
// Overlapping, weak and reversed detectors.
add('random weak 500/800', normal(500, 0.2, seed++), normal(800, 0, seed++));
add('random reversed 300/200', normal(300, -1, seed++), normal(200, 0, seed++));
// Many ties: scores rounded to a few levels, and integers 0..3.
add(
  'ties rounded to 0.5',
  map(normal(2000, 0.5, seed++), (x) => Math.round(x * 2) / 2),
  map(normal(3000, 0, seed++), (x) => Math.round(x * 2) / 2),
);
add(
  'ties integers 0..3',
  map(normal(997, 0, seed++), (x) => Math.floor(Math.abs(x * 2)) % 4),
  map(normal(1013, 0, seed++), (x) => Math.floor(Math.abs(x * 1.5)) % 4),
  { roc: true },
);
add(
  'ties integers 0..3 small',
  Float64Array.of(3, 3, 2, 1, 0, 3, 2),
  Float64Array.of(0, 0, 1, 3, 2, 0),
  { roc: true },
);
add('ties -0 and +0', Float64Array.of(-0, 0, 1, -0), Float64Array.of(0, -0, -1, 1), { roc: true });
// Degenerate: constant scores, perfectly separated, perfectly inverted.
add('constant 5/8', fill(5, 0.5), fill(8, 0.5), { roc: true });
add('constant 1/1', fill(1, 2), fill(1, 2));
add('separated', range(40, 100), range(60, 0), { roc: true });
add('inverted', range(40, 0), range(60, 100), { roc: true });
add('separated constant blocks', fill(20, 1), fill(30, 0));
// The tpr option.
add('tpr 0.9', normal(1000, 1, seed++), normal(900, 0, seed++), { tpr: 0.9 });
add('tpr 0.8 ties', map(normal(500, 1, seed++), Math.round), map(normal(500, 0, seed++), Math.round), { tpr: 0.8 });
add('tpr 1', normal(200, 1, seed++), normal(150, 0, seed++), { tpr: 1, roc: true });
add('random roc 50/40', normal(50, 1, seed++), normal(40, 0, seed++), { roc: true });

// One python run for all cases, made by the first test that needs it. Not in beforeAll: a missing
// python/sklearn must make every comparison fail, not be reported as skipped.
let refs: SklearnResult[] | undefined;
const ref = (i: number): SklearnResult => (refs ??= sklearnMetrics(cases))[i];

describe('evaluateOOD vs scikit-learn', () => {
  it('runs the reference once per case', () => {
    expect(ref(0)).toBeDefined();
    expect(refs).toHaveLength(cases.length);
  });

  cases.forEach((c, i) => {
    it(`${c.name}: every metric within 1e-9`, () => {
      const report = evaluateOOD(c.id, c.ood, c.tpr === undefined ? {} : { tpr: c.tpr });
      expect(Object.keys(report).sort()).toEqual([...METRICS, 'n_id', 'n_ood'].sort());
      expect(report.n_id).toBe(c.id.length);
      expect(report.n_ood).toBe(c.ood.length);
      for (const key of METRICS) {
        const got = report[key];
        const want = ref(i)[key];
        expect(Math.abs(got - want), `${key}: got ${got}, sklearn ${want}`).toBeLessThanOrEqual(1e-9);
      }
    });

    if (c.roc) {
      it(`${c.name}: rocCurve matches roc_curve(drop_intermediate=False)`, () => {
        const got = rocCurve(c.id, c.ood);
        const want = ref(i).roc!;
        expect(got.fpr.length).toBe(want.fpr.length);
        expect(got.thresholds[0]).toBe(Infinity); // sklearn ≥ 1.3 uses inf; older max + 1
        for (let k = 0; k < want.fpr.length; k++) {
          expect(Math.abs(got.fpr[k] - want.fpr[k])).toBeLessThanOrEqual(1e-12);
          expect(Math.abs(got.tpr[k] - want.tpr[k])).toBeLessThanOrEqual(1e-12);
          if (k > 0) expect(got.thresholds[k] === want.thresholds[k]).toBe(true);
        }
      });
    }
  });
});

describe('evaluateOOD specifics', () => {
  it('constant scores give AUROC 0.5 and detection error 0.5', () => {
    const r = evaluateOOD(fill(10, 3), fill(7, 3));
    expect(r.auroc).toBe(0.5);
    expect(r.detection_error).toBe(0.5);
    expect(r.fpr95).toBe(0); // nothing is strictly above t
    expect(r.fpr95_ood_positive).toBe(1);
  });

  it('perfect separation and inversion', () => {
    const sep = evaluateOOD(range(20, 100), range(20, 0));
    expect([sep.auroc, sep.fpr95, sep.fpr95_ood_positive, sep.detection_error]).toEqual([1, 0, 0, 0]);
    expect([sep.aupr_in, sep.aupr_out, sep.ap_in, sep.ap_out]).toEqual([1, 1, 1, 1]);
    const inv = evaluateOOD(range(20, 0), range(20, 100));
    expect([inv.auroc, inv.fpr95, inv.fpr95_ood_positive, inv.detection_error]).toEqual([0, 1, 1, 0.5]);
  });

  it('paper FPR95 uses round-half-even of 0.05·N (N = 10 → index 0, N = 50 → index 2)', () => {
    // ID = 0..N−1 so the threshold equals its index; OOD sits just above each candidate index.
    const ood = Float64Array.of(0.5, 1.5, 2.5, 3.5);
    expect(evaluateOOD(range(10), ood).fpr95).toBe(1); // 0.5 → 0: t = 0 (half-up, or 1−0.95, would give t = 1 → 0.75)
    expect(evaluateOOD(range(20), ood).fpr95).toBe(0.75); // exactly 1: t = 1
    expect(evaluateOOD(range(30), ood).fpr95).toBe(0.5); // 1.5 → 2: t = 2
    expect(evaluateOOD(range(50), ood).fpr95).toBe(0.5); // 2.5 → 2: t = 2 (half-up would give t = 3 → 0.25)
  });

  it('accepts Float32Array, Float64Array and number[] alike', () => {
    const id = Float32Array.from(normal(300, 1, 99));
    const ood = Float32Array.from(normal(200, 0, 98));
    const a = evaluateOOD(id, ood);
    expect(evaluateOOD(Float64Array.from(id), Float64Array.from(ood))).toEqual(a);
    expect(evaluateOOD(Array.from(id), Array.from(ood))).toEqual(a);
  });

  it('does not modify its inputs', () => {
    const id = [3, 1, 2];
    const ood = Float64Array.of(0, 2, 1);
    evaluateOOD(id, ood);
    expect(id).toEqual([3, 1, 2]);
    expect(Array.from(ood)).toEqual([0, 2, 1]);
  });
});

describe('evaluateOOD errors', () => {
  const codeOf = (f: () => unknown): { code: string; message: string } => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(NcodError);
      return e as NcodError;
    }
    throw new Error('expected a throw');
  };

  it('empty ID or OOD → ERR_SHAPE', () => {
    expect(codeOf(() => evaluateOOD([], [1])).code).toBe('ERR_SHAPE');
    expect(codeOf(() => evaluateOOD(new Float32Array(3), new Float32Array(0))).code).toBe('ERR_SHAPE');
    expect(codeOf(() => rocCurve([1], [])).code).toBe('ERR_SHAPE');
  });

  it('NaN / ±Inf → ERR_NOT_FINITE naming the array and index', () => {
    const nan = codeOf(() => evaluateOOD([1, 2], [0, 1, 2, NaN]));
    expect(nan.code).toBe('ERR_NOT_FINITE');
    expect(nan.message).toContain('oodScores[3]');
    expect(nan.message).toContain('NaN');
    const inf = codeOf(() => evaluateOOD(Float32Array.of(1, Infinity), [0]));
    expect(inf.code).toBe('ERR_NOT_FINITE');
    expect(inf.message).toContain('idScores[1]');
    const ninf = codeOf(() => rocCurve([0], [-Infinity]));
    expect(ninf.code).toBe('ERR_NOT_FINITE');
    expect(ninf.message).toContain('oodScores[0]');
  });

  it('bad options → ERR_INVALID_ARGUMENT', () => {
    for (const tpr of [1.5, 0, -0.1, NaN]) {
      expect(codeOf(() => evaluateOOD([1], [0], { tpr })).code).toBe('ERR_INVALID_ARGUMENT');
    }
    for (const bootstrap of [{ samples: 0 }, { samples: 2.5 }, { samples: 10, confidence: 1 }, { samples: 10, seed: 0.5 }]) {
      expect(codeOf(() => evaluateOOD([1], [0], { bootstrap })).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});

describe('evaluateOOD bootstrap', () => {
  const id = normal(400, 1, 1234);
  const ood = normal(600, 0, 4321);

  it('is deterministic for a seed and varies with it', () => {
    const a = evaluateOOD(id, ood, { bootstrap: { samples: 200, seed: 7 } });
    const b = evaluateOOD(id, ood, { bootstrap: { samples: 200, seed: 7 } });
    const c = evaluateOOD(id, ood, { bootstrap: { samples: 200, seed: 8 } });
    expect(a.ci).toEqual(b.ci);
    expect(a.ci).not.toEqual(c.ci);
    expect(Object.keys(a.ci!).sort()).toEqual([...METRICS].sort());
  });

  it('intervals are ordered and contain the point estimates', () => {
    const r = evaluateOOD(id, ood, { bootstrap: { samples: 500, seed: 3, confidence: 0.95 } });
    for (const key of METRICS) {
      const [lo, hi] = r.ci![key];
      expect(lo, key).toBeLessThanOrEqual(hi);
      expect(r[key], key).toBeGreaterThanOrEqual(lo);
      expect(r[key], key).toBeLessThanOrEqual(hi);
    }
    // A narrower confidence gives a narrower AUROC interval.
    const narrow = evaluateOOD(id, ood, { bootstrap: { samples: 500, seed: 3, confidence: 0.5 } });
    expect(narrow.ci!.auroc[1] - narrow.ci!.auroc[0]).toBeLessThan(r.ci!.auroc[1] - r.ci!.auroc[0]);
    // The point estimates do not depend on the bootstrap.
    const { ci: _ci, ...point } = r;
    expect(point).toEqual(evaluateOOD(id, ood));
  });
});
