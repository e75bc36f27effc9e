// Scores do not depend on the thread count: each output row is written by one thread, with a fixed order of its
// own reductions. The same scoring runs in child processes under OMP_NUM_THREADS = 1, 2 and 3 (the raw addon from
// plain CommonJS) and must print the same bytes.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const child = `
const binding = require('node-gyp-build')(${JSON.stringify(root)});
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
const matrix = (rows, cols, scale) => Float32Array.from({ length: rows * cols }, () => scale * random());
const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
(async () => {
  const out = [];
  const logits = matrix(3001, 1001, 20);
  for (const kind of ['msp', 'energy', 'gen']) out.push(await binding.scoreLogits({ logits, rows: 3001, classes: 1001, kind, temperature: 1.5 }));
  for (const dim of [17, 300]) {
    const bank = new binding.KnnBank({ dim });
    await bank.append({ features: matrix(4001, dim, 1), rows: 4001 });
    out.push(await bank.score({ features: matrix(1001, dim, 1), rows: 1001, k: 20 }));
  }
  const features = matrix(3001, 64, 1);
  const labels = Int32Array.from({ length: 3001 }, (_, i) => i % 7);
  const model = await binding.mahalanobisFit({ features, labels, rows: 3001, dim: 64, numClasses: 7, relative: true });
  const classes = new binding.WhitenedCentres(model.classes);
  const background = new binding.WhitenedCentres(model.background);
  out.push(await binding.mahalanobisScore({ features: matrix(2001, 64, 1), rows: 2001, classes, background }));
  console.log(binding.blasInfo().openmpThreads + '\\n' + out.map(bytes).join(' '));
})();
`;

describe('detector scores and the thread count', () => {
  it('are the same bytes with 1, 2 and 3 OpenMP threads', () => {
    const run = (threads: number) => {
      const r = spawnSync(process.execPath, ['-e', child], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, OMP_NUM_THREADS: String(threads) },
        maxBuffer: 1 << 26,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const [threadsSeen, scores] = r.stdout.split('\n');
      expect(Number(threadsSeen)).toBe(threads);
      return scores;
    };
    const one = run(1);
    expect(one.split(' ')).toHaveLength(6);
    expect(run(2)).toBe(one);
    expect(run(3)).toBe(one);
  }, 120_000);
});
