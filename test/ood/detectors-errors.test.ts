// Every error path of the detectors, through the public API and straight into the raw binding (C++ checks).
import { describe, expect, it } from 'vitest';

import { detectors, NcodError } from '../../lib/index.js';
import type { RawWhitenedModel } from '../../binding.js';
import { native } from '../../lib/native.js';

async function expectCode(run: () => unknown, code: string, message?: RegExp) {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(NcodError);
  expect((caught as NcodError).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

const features = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7)); // 10 × 4
const labels = Int32Array.from({ length: 10 }, (_, i) => i % 2);

describe('unfitted detectors', () => {
  for (const [name, det] of [
    ['mahalanobis', detectors.mahalanobis()],
    ['relativeMahalanobis', detectors.relativeMahalanobis()],
    ['knn', detectors.knn({ k: 1 })],
  ] as const) {
    it(name, () => expectCode(() => det.score(features), 'ERR_INVALID_ARGUMENT', /expected a fitted detector/));
  }
  it('react without a threshold', () =>
    expectCode(() => detectors.react().score({ features, weights: features, numClasses: 10 }), 'ERR_INVALID_ARGUMENT', /expected a fitted detector/));
});

describe('unfitted head-based detectors', () => {
  for (const [name, det] of [
    ['vim', detectors.vim({ principalDim: 1 })],
    ['residual', detectors.residual({ principalDim: 1 })],
    ['neco', detectors.neco({ principalDim: 1 })],
    ['fdbd', detectors.fdbd()],
    ['nci', detectors.nci()],
  ] as const) {
    it(name, () => expectCode(() => det.score(features), 'ERR_INVALID_ARGUMENT', /expected a fitted detector/));
  }
});

describe('head-based detector arguments', () => {
  const weights = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)); // 2 × 4
  it('vim principalDim must leave a residual', () =>
    expectCode(() => detectors.vim({ principalDim: 4 }).fit({ features, weights, numClasses: 2 }), 'ERR_INVALID_ARGUMENT', /principalDim/));
  it('neco principalDim above dim', () =>
    expectCode(() => detectors.neco({ principalDim: 5 }).fit({ features, weights, numClasses: 2 }), 'ERR_INVALID_ARGUMENT', /principalDim/));
  it('neco principalDim 0', () => expectCode(() => detectors.neco({ principalDim: 0 }), 'ERR_INVALID_ARGUMENT'));
  it('vim head of the wrong size', () =>
    expectCode(() => detectors.vim({ principalDim: 1 }).fit({ features, weights: new Float32Array(7), numClasses: 2 }), 'ERR_SHAPE'));
  it('vim NaN weights', () => {
    const bad = weights.slice();
    bad[6] = NaN;
    return expectCode(() => detectors.vim({ principalDim: 1 }).fit({ features, weights: bad, numClasses: 2 }), 'ERR_NOT_FINITE', /weights\[1, 2\]/);
  });
  it('nci alpha must be finite', () => expectCode(() => detectors.nci({ alpha: Infinity }), 'ERR_INVALID_ARGUMENT'));
  it('fdbd with two equal class rows', async () => {
    const det = await detectors.fdbd().fit({ features, weights: new Float32Array(8).fill(1), numClasses: 2 });
    await expectCode(() => det.score(features), 'ERR_INVALID_ARGUMENT', /rows 0 and 1 equal/);
  });
  it('fdbd NaN in fit features', () => {
    const bad = features.slice();
    bad[13] = NaN;
    return expectCode(() => detectors.fdbd().fit({ features: bad, weights, numClasses: 2 }), 'ERR_NOT_FINITE', /features\[3, 1\]/);
  });
  it('nci scoring features of another dim', async () => {
    const det = await detectors.nci().fit({ features, weights, numClasses: 2 });
    await expectCode(() => det.score(new Float32Array(6)), 'ERR_SHAPE');
  });
  it('raw decisionScores: a mean of the wrong length or dtype, an unknown kind, a head that is not one', async () => {
    const head = new (native().LinearHead)({ weights, classes: 2 });
    const base = { features, rows: 10, head, mean: new Float64Array(4), kind: 'nci' as const };
    const scores = native().decisionScores;
    await expectCode(() => scores({ ...base, mean: new Float64Array(3) }), 'ERR_SHAPE', /mean/);
    await expectCode(() => scores({ ...base, mean: new Float32Array(4) as never }), 'ERR_DTYPE');
    await expectCode(() => scores({ ...base, kind: 2 as never }), 'ERR_INVALID_ARGUMENT', /kind: expected one of 'fdbd', 'nci', got 2/);
    await expectCode(() => scores({ ...base, head: { weights } as never }), 'ERR_INVALID_ARGUMENT', /head: expected a LinearHead, got an object/);
    expect(await scores(base)).toHaveLength(10);
    head.dispose();
    await expectCode(() => scores(base), 'ERR_INVALID_ARGUMENT', /disposed/);
  });
  it('raw scoreLogits refuses the internal table kinds (fDBD, argmax offset) and numbers', async () => {
    for (const kind of ['fdbdSum', 'argmaxOffset', 5, 6]) {
      await expectCode(() => native().scoreLogits({ logits: features, rows: 10, classes: 4, kind: kind as never }), 'ERR_INVALID_ARGUMENT', /kind: expected one of 'msp', /);
    }
  });
});

describe('shape errors', () => {
  it('scoring features of another dim (mahalanobis)', async () => {
    const det = await detectors.mahalanobis().fit({ features, labels, numClasses: 2 });
    await expectCode(() => det.score(new Float32Array(6)), 'ERR_SHAPE', /multiple of dim = 4/);
  });
  it('scoring features of another dim (knn)', async () => {
    const det = await detectors.knn({ k: 2 }).fit({ features, dim: 4 });
    await expectCode(() => det.score(new Float32Array(5)), 'ERR_SHAPE');
  });
  it('logits not a multiple of numClasses', () =>
    expectCode(() => detectors.msp().score({ logits: new Float32Array(7), numClasses: 3 }), 'ERR_SHAPE'));
  it('weights not a multiple of numClasses', () =>
    expectCode(() => detectors.energy().score({ features, weights: new Float32Array(7), numClasses: 2 }), 'ERR_SHAPE'));
  it('bias of the wrong length', () =>
    expectCode(() => detectors.energy().score({ features, weights: new Float32Array(8), bias: new Float32Array(3), numClasses: 2 }), 'ERR_SHAPE'));
  it('labels of the wrong length', () =>
    expectCode(() => detectors.mahalanobis().fit({ features, labels: new Int32Array(3), numClasses: 2 }), 'ERR_SHAPE'));
  it('wrong dtype', () => expectCode(() => detectors.maxLogit().score({ logits: new Int32Array(4) as never, numClasses: 2 }), 'ERR_DTYPE'));
});

describe('non-finite inputs name the element', () => {
  const bad = features.slice();
  bad[13] = NaN; // row 3, column 1
  it('logits', () =>
    expectCode(() => detectors.energy().score({ logits: bad, numClasses: 4 }), 'ERR_NOT_FINITE', /logits\[3, 1\]/));
  // The logits are checked through the scores (a bad row scores NaN): every kind, every kind of bad value, in the
  // vector body and the tail of a row (C = 37 = 2·16 + 5), and in a later 32 MB chunk.
  const logitKinds = [detectors.msp(), detectors.maxLogit(), detectors.energy(), detectors.energy({ temperature: 0.5 }), detectors.gen()];
  for (const value of [NaN, Infinity, -Infinity]) {
    for (const col of [3, 20, 35]) {
      it(`logits holding ${value} at column ${col}, every logit detector`, async () => {
        const logits = Float32Array.from({ length: 9 * 37 }, (_, i) => Math.sin(i));
        logits[6 * 37 + col] = value;
        logits[8 * 37 + 1] = value; // a later bad element is not the one reported
        for (const det of logitKinds) {
          await expectCode(() => det.score({ logits, numClasses: 37 }), 'ERR_NOT_FINITE', new RegExp(`logits\\[6, ${col}\\]`));
        }
      });
    }
  }
  it('logits with a bad element in a later chunk', async () => {
    const C = 1000;
    const logits = new Float32Array(9000 * C); // 36 MB: more than one 32 MB chunk
    logits[8500 * C + 999] = -Infinity;
    await expectCode(() => detectors.maxLogit().score({ logits, numClasses: C }), 'ERR_NOT_FINITE', /logits\[8500, 999\]/);
  });
  it('features through a head', () =>
    expectCode(() => detectors.gen().score({ features: bad, weights: new Float32Array(8), numClasses: 2 }), 'ERR_NOT_FINITE', /features\[3, 1\]/));
  it('head weights', () => {
    const weights = new Float32Array(8);
    weights[5] = Infinity;
    return expectCode(() => detectors.msp().score({ features, weights, numClasses: 2 }), 'ERR_NOT_FINITE', /weights\[1, 1\]/);
  });
  it('mahalanobis fit', () =>
    expectCode(() => detectors.mahalanobis().fit({ features: bad, labels, numClasses: 2 }), 'ERR_NOT_FINITE', /features\[3, 1\]/));
  it('mahalanobis score', async () => {
    const det = await detectors.mahalanobis().fit({ features, labels, numClasses: 2 });
    await expectCode(() => det.score(bad), 'ERR_NOT_FINITE', /features\[3, 1\]/);
  });
  it('knn fit and score', async () => {
    await expectCode(() => detectors.knn({ k: 1 }).fit({ features: bad, dim: 4 }), 'ERR_NOT_FINITE', /features\[3, 1\]/);
    const det = await detectors.knn({ k: 1 }).fit({ features, dim: 4 });
    await expectCode(() => det.score(bad), 'ERR_NOT_FINITE', /features\[3, 1\]/);
  });
  it('react fit', () => expectCode(() => detectors.react().fit({ features: bad }), 'ERR_NOT_FINITE', /features\[13\]/));
});

describe('invalid arguments', () => {
  it('k larger than the fit set', () =>
    expectCode(() => detectors.knn({ k: 11 }).fit({ features, dim: 4 }), 'ERR_INVALID_ARGUMENT', /k: expected an integer in \[1, 10\]/));
  it('k = 0', () => expectCode(() => detectors.knn({ k: 0 }), 'ERR_INVALID_ARGUMENT'));
  it('temperature <= 0', () => expectCode(() => detectors.energy({ temperature: 0 }), 'ERR_INVALID_ARGUMENT'));
  it('gamma NaN', () => expectCode(() => detectors.gen({ gamma: NaN }), 'ERR_INVALID_ARGUMENT'));
  it('GEN topM above numClasses', () =>
    expectCode(() => detectors.gen({ topM: 5 }).score({ logits: features, numClasses: 4 }), 'ERR_INVALID_ARGUMENT', /topM/));
  it('negative ridge', () => expectCode(() => detectors.mahalanobis({ ridge: -1 }), 'ERR_INVALID_ARGUMENT'));
  it('label out of range', () =>
    expectCode(() => detectors.mahalanobis().fit({ features, labels, numClasses: 1 }), 'ERR_LABEL_RANGE'));
  it('an empty class', () =>
    expectCode(() => detectors.mahalanobis().fit({ features, labels, numClasses: 3 }), 'ERR_EMPTY_CLASS'));
  it('zero covariance (every sample at its class mean)', () =>
    expectCode(
      () => detectors.mahalanobis().fit({ features: new Float32Array([1, 2, 1, 2, 3, 4]), labels: new Int32Array([0, 0, 1]), numClasses: 2 }),
      'ERR_INVALID_ARGUMENT',
      /non-zero covariance/,
    ));
  it('singular covariance with ridge 0', () =>
    expectCode(
      () => detectors.mahalanobis({ ridge: 0 }).fit({ features: new Float32Array([0, 0, 1, 0, 5, 5, 6, 5]), labels: new Int32Array([0, 0, 1, 1]), numClasses: 2 }),
      'ERR_INVALID_ARGUMENT',
      /ridge > 0/,
    ));
  it('aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const det = await detectors.mahalanobis().fit({ features, labels, numClasses: 2 });
    await expectCode(() => det.score(features, { signal: controller.signal }), 'ERR_ABORTED');
  });
  it('unknown backend', () => expectCode(() => detectors.msp({ backend: 'tpu' as never }).score({ logits: features, numClasses: 4 }), 'ERR_INVALID_ARGUMENT'));
});

describe('raw binding validates in C++', () => {
  const raw = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const logits = { logits: features, rows: 10, classes: 4 };
  it('wrong arity, not an options object', async () => {
    await expectCode(() => raw.scoreLogits(logits, undefined), 'ERR_INVALID_ARGUMENT', /arguments/);
    await expectCode(() => raw.scoreLogits(features), 'ERR_INVALID_ARGUMENT', /scoreLogits: expected an options object, got Float32Array/);
  });
  it('an unknown kind', () => expectCode(() => native().scoreLogits({ ...logits, kind: 'softmax' as never }), 'ERR_INVALID_ARGUMENT', /options.kind: expected one of .*, got 'softmax'/));
  it('rows × classes mismatch', () => expectCode(() => native().scoreLogits({ ...logits, rows: 3, kind: 'msp' }), 'ERR_SHAPE'));
  it('temperature 0, a bad backend', async () => {
    await expectCode(() => native().scoreLogits({ ...logits, kind: 'energy', temperature: 0 }), 'ERR_INVALID_ARGUMENT', /temperature/);
    await expectCode(() => native().scoreLogits({ ...logits, kind: 'energy', backend: 1 as never }), 'ERR_INVALID_ARGUMENT', /backend/);
  });
  const LinearHead = native().LinearHead;
  const WhitenedCentres = native().WhitenedCentres;
  it('linear head of the wrong size', () => expectCode(() => new LinearHead({ weights: new Float32Array(7), classes: 2 }), 'ERR_SHAPE'));
  it('NaN clip, a bias of the wrong size, NaN weights', async () => {
    await expectCode(() => new LinearHead({ weights: new Float32Array(8), classes: 2, clip: NaN }), 'ERR_INVALID_ARGUMENT', /clip/);
    await expectCode(() => new LinearHead({ weights: new Float32Array(8), bias: new Float32Array(3), classes: 2 }), 'ERR_SHAPE', /bias/);
    await expectCode(() => new LinearHead({ weights: Float32Array.of(0, 0, NaN, 0), classes: 2 }), 'ERR_NOT_FINITE', /weights/);
  });
  it('LinearHead.score: a named kind, the head\'s width, a disposed head', async () => {
    const head = new LinearHead({ weights: new Float32Array(8), classes: 2 });
    expect([head.dim(), head.classes()]).toEqual([4, 2]);
    await expectCode(() => head.score({ features, rows: 10, kind: 'max' as never }), 'ERR_INVALID_ARGUMENT', /kind: expected one of 'msp', 'maxlogit', 'energy', 'gen', 'entropy', got 'max'/);
    await expectCode(() => head.score({ features, rows: 10, kind: 'energy', temperature: 0 }), 'ERR_INVALID_ARGUMENT', /temperature/);
    await expectCode(() => head.score({ features, rows: 10, kind: 'gen', topM: 3 }), 'ERR_INVALID_ARGUMENT', /topM/);
    await expectCode(() => head.score({ features, rows: 3, kind: 'msp' }), 'ERR_SHAPE');
    await expectCode(() => head.score({ features, rows: 10, kind: 'msp', backend: 'gpu' as never }), 'ERR_INVALID_ARGUMENT', /backend/);
    const inFlight = head.score({ features, rows: 10, kind: 'msp' });
    head.dispose();
    head.dispose(); // twice is harmless
    expect(Array.from(await inFlight)).toEqual(new Array(10).fill(0.5)); // a call in flight keeps its reference
    await expectCode(() => head.score({ features, rows: 10, kind: 'msp' }), 'ERR_INVALID_ARGUMENT', /LinearHead: expected a live handle, got a disposed one/);
  });
  it('a handle of another class, or an object made from the prototype, is not a handle', async () => {
    const projection = new WhitenedCentres({ dim: 4, dims: 1, count: 1, shift: new Float64Array(4), whitening: new Float64Array(4), centres: new Float64Array(1) });
    const head = new LinearHead({ weights: new Float32Array(8), classes: 2 });
    const scores = native().mahalanobisScore;
    await expectCode(() => scores({ features, rows: 10, classes: head as never }), 'ERR_INVALID_ARGUMENT', /classes: expected a WhitenedCentres/);
    await expectCode(() => scores({ features, rows: 10, classes: Object.create(Object.getPrototypeOf(projection)) }), 'ERR_INVALID_ARGUMENT', /classes: expected a WhitenedCentres/);
    await expectCode(() => scores({ features, rows: 10, classes: new (native().KnnBank)({ dim: 4 }) as never }), 'ERR_INVALID_ARGUMENT', /classes: expected a WhitenedCentres/);
    await expectCode(() => native().subspaceScores({ features, rows: 10, projection: head as never, head, kind: 'residual' }), 'ERR_INVALID_ARGUMENT', /projection/);
  });
  it('subspaceScores: an options object, a named kind, a projection of the features\' width', async () => {
    const projection = new WhitenedCentres({ dim: 4, dims: 1, count: 1, shift: new Float64Array(4), whitening: new Float64Array(4), centres: new Float64Array(1) });
    const base = { features, rows: 10, projection, head: new LinearHead({ weights: new Float32Array(8), classes: 2 }) };
    const scores = native().subspaceScores;
    await expectCode(() => scores({ ...base, kind: 'pca' as never }), 'ERR_INVALID_ARGUMENT', /kind: expected one of 'vim', 'residual', 'neco', got 'pca'/);
    await expectCode(() => scores({ ...base, kind: 1 as never }), 'ERR_INVALID_ARGUMENT', /kind: expected .*, got 1/);
    await expectCode(() => scores({ ...base, kind: 'vim' }), 'ERR_INVALID_ARGUMENT', /alpha: expected a finite number/);
    await expectCode(() => scores({ ...base, kind: 'vim', alpha: 1, head: new LinearHead({ weights: new Float32Array(6), classes: 2 }) }), 'ERR_SHAPE', /head/);
    await expectCode(() => scores({ ...base, kind: 'neco', shift: new Float64Array(3), scale: new Float64Array(4) }), 'ERR_SHAPE');
    await expectCode(() => scores({ ...base, rows: 3, kind: 'residual' }), 'ERR_SHAPE');
    expect(Array.from(await scores({ ...base, kind: 'residual' }))).toHaveLength(10);
  });
  it('k above the bank size, k = 0, a bad backend name, a disposed bank', async () => {
    const bank = new (native().KnnBank)({ dim: 4 });
    await bank.append({ features, rows: 10 });
    await expectCode(() => bank.score({ features, rows: 10, k: 11 }), 'ERR_INVALID_ARGUMENT', /k: expected an integer in \[1, 10\] \(the fit set size\), got 11/);
    await expectCode(() => bank.checkK(0), 'ERR_INVALID_ARGUMENT', /fit set size/);
    await expectCode(() => bank.score({ features, rows: 10, k: 1, backend: 'gpu' as never }), 'ERR_INVALID_ARGUMENT', /backend: expected 'cpu' or 'cuda', got 'gpu'/);
    await expectCode(() => bank.score(features as never), 'ERR_INVALID_ARGUMENT', /score: expected an options object, got Float32Array/);
    await expectCode(() => bank.append({ features, rows: 3 }), 'ERR_SHAPE');
    await expectCode(() => bank.read({ start: 8, rows: 3 }), 'ERR_INVALID_ARGUMENT', /within the bank's 10 rows/);
    bank.dispose();
    await expectCode(() => bank.rows(), 'ERR_INVALID_ARGUMENT', /disposed/);
    await expectCode(() => new (native().KnnBank)({ dim: 0 }), 'ERR_SHAPE');
  });
  it('a model that is not one', async () => {
    await expectCode(() => native().mahalanobisScore({ features, rows: 10, classes: {} as never }), 'ERR_INVALID_ARGUMENT');
    await expectCode(() => new WhitenedCentres({} as never), 'ERR_INVALID_ARGUMENT', /dim/);
  });
  it('a model with a wrong-sized array, a non-finite one', async () => {
    const fitted = (await raw.mahalanobisFit({ features, labels, rows: 10, dim: 4, numClasses: 2, relative: false })) as { classes: RawWhitenedModel };
    await expectCode(() => new WhitenedCentres({ ...fitted.classes, whitening: new Float64Array(3) }), 'ERR_SHAPE', /whitening/);
    await expectCode(() => new WhitenedCentres({ ...fitted.classes, shift: new Float32Array(4) as never }), 'ERR_DTYPE');
    await expectCode(() => new WhitenedCentres({ ...fitted.classes, centres: fitted.classes.centres.map((v, i) => (i === 1 ? NaN : v)) }), 'ERR_NOT_FINITE', /centres/);
  });
  it('features of another dim than the model, a background of another dim', async () => {
    const fitted = (await raw.mahalanobisFit({ features, labels, rows: 10, dim: 4, numClasses: 2, relative: false })) as { classes: RawWhitenedModel };
    const classes = new WhitenedCentres(fitted.classes);
    await expectCode(() => native().mahalanobisScore({ features, rows: 8, classes }), 'ERR_SHAPE');
    const background = new WhitenedCentres({ dim: 2, dims: 1, count: 1, shift: new Float64Array(2), whitening: new Float64Array(2), centres: new Float64Array(1) });
    await expectCode(() => native().mahalanobisScore({ features, rows: 10, classes, background }), 'ERR_SHAPE', /background/);
  });
});
