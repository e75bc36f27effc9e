// Each method's spec (lib/ood/method-spec.ts, declared beside its detector) says which inputs its fit needs: the bench
// runs a method on a layer only when the layer has them, so a spec that says less than fit() reads, or more, is a bug
// the bench would hit as a crash or as a detector left out. Checked here for every method: fitted from exactly the
// inputs its spec names it scores, and without any one of them it fails naming that input.
import { describe, expect, it } from 'vitest';

import { METHOD_SPECS } from '../../lib/ood/detectors.js';
import { fitMethod } from '../../lib/ood/fit-method.js';
import { METHODS } from '../../lib/ood/method-names.js';
import type { MethodFitData } from '../../lib/ood/method-spec.js';
import { clusters, gaussian, rng } from '../helpers/random.js';

const N = 90, D = 6, C = 3;
const { features, labels } = clusters(N, D, C, 5);
const normal = gaussian(rng(6));
const head = { weights: Float32Array.from({ length: C * D }, normal), bias: Float32Array.from({ length: C }, normal), numClasses: C };
const logits = Float32Array.from({ length: N * C }, normal);
const names = { features: 'F', labels: 'L', head: 'H', principalDim: 'P', logitWidth: 'W' };
const hyper = { principalDim: 2, k: 5 };

/** The inputs a spec names, each under the name its "needs" message uses. */
function neededInputs(method: (typeof METHODS)[number]): [string, MethodFitData][] {
  const { needs } = METHOD_SPECS[method];
  const parts: [string, MethodFitData][] = [];
  if (needs.features) parts.push(['F', { features, dim: D }]);
  if (needs.labels) parts.push(['L', { labels, numClasses: C }]);
  if (needs.head) parts.push(['H', { head }]);
  if (!needs.features && !needs.head) parts.push(['W', { logitWidth: C }]); // logit detectors: a width or a head
  return parts;
}

describe('method specs: needs match what fit() reads', () => {
  for (const method of METHODS) {
    it(method, async () => {
      const parts = neededInputs(method);
      const all = Object.assign({}, ...parts.map(([, data]) => data)) as MethodFitData;
      const detector = await fitMethod(method, all, hyper, names);
      const scores = await detector.score(METHOD_SPECS[method].needs.features ? features : logits);
      expect(scores).toHaveLength(N);
      expect(scores.every(Number.isFinite)).toBe(true);
      detector.dispose();
      for (const [name] of parts) {
        const without = Object.assign({}, ...parts.filter(([n]) => n !== name).map(([, data]) => data)) as MethodFitData;
        await expect(fitMethod(method, without, hyper, names), `${method} without ${name}`).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining(`${name}: expected a value (method ${method} needs it)`),
        });
      }
    });
  }

  it('a name outside METHODS is ERR_INVALID_ARGUMENT listing them', async () => {
    await expect(fitMethod('lof' as never, { features, dim: D }, {}, names)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('msp, maxlogit') });
  });
});
