// `ncod score`: OOD scores (higher = more in-distribution) of one detector, written as a float64 .npy.
import { Option, type Command } from 'commander';

import type { BackendName } from '../backend.js';
import { writeNpy } from '../data/index.js';
import { describe, fail } from '../errors.js';
import { detectors } from '../ood/detectors.js';
import { loadNpy, parseInteger, parseNumber, toFloatVector, toLabels, toMatrix, type Matrix } from './arrays.js';
import { printJson } from './output.js';

const METHODS = ['msp', 'maxlogit', 'energy', 'gen', 'react', 'mahalanobis', 'relative-mahalanobis', 'knn', 'vim', 'residual', 'neco', 'fdbd', 'nci'] as const;
type Method = (typeof METHODS)[number];

interface ScoreOptions {
  method: Method;
  features?: string;
  logits?: string;
  fitFeatures?: string;
  fitLabels?: string;
  weights?: string;
  bias?: string;
  temperature?: number;
  k?: number;
  principalDim?: number;
  percentile?: number;
  alpha?: number;
  backend: BackendName;
  out: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  $ ncod score --method energy --logits logits_test.npy --out energy.npy
  $ ncod score --method mahalanobis --fit-features train.npy --fit-labels y_train.npy --features test.npy --out maha.npy
  $ ncod score --method vim --fit-features train.npy --weights fc_w.npy --bias fc_b.npy --principal-dim 256 --features test.npy --out vim.npy

Inputs needed: msp, maxlogit, energy, gen: --logits, or --features with --weights [--bias];
react: --fit-features, --features, --weights [--bias]; mahalanobis, relative-mahalanobis: --fit-features,
--fit-labels, --features; knn: --fit-features, --features [--k]; vim, residual, neco: --fit-features,
--weights [--bias], --principal-dim, --features; fdbd, nci: --fit-features, --weights [--bias], --features.`;

function need<T>(value: T | undefined, option: string, method: string): T {
  if (value === undefined) fail('ERR_INVALID_ARGUMENT', option, `a value (method ${method} needs it)`, 'none');
  return value;
}

async function matrix(path: string | undefined, option: string, method: string): Promise<Matrix> {
  return toMatrix(await loadNpy(need(path, option, method), option), option);
}

function sameDim(a: Matrix, b: Matrix, what: string): void {
  if (a.cols !== b.cols) fail('ERR_SHAPE', what, `${a.cols} columns (as the fit features)`, `${b.cols}`);
}

async function computeScores(o: ScoreOptions): Promise<Float64Array> {
  const m = o.method;
  const run = { backend: o.backend };
  const head = async () => {
    const w = await matrix(o.weights, '--weights', m);
    const bias = o.bias ? toFloatVector(await loadNpy(o.bias, '--bias'), '--bias') : undefined;
    return { weights: w.data, bias, numClasses: w.rows, dim: w.cols };
  };
  if (m === 'msp' || m === 'maxlogit' || m === 'energy' || m === 'gen') {
    const detector = m === 'msp' ? detectors.msp(run) : m === 'maxlogit' ? detectors.maxLogit(run) : m === 'energy' ? detectors.energy({ ...run, temperature: o.temperature }) : detectors.gen(run);
    if (o.logits) {
      const z = await matrix(o.logits, '--logits', m);
      return detector.score({ logits: z.data, numClasses: z.cols });
    }
    const [x, h] = [await matrix(o.features, '--features (or --logits)', m), await head()];
    return detector.score({ features: x.data, ...h });
  }
  const x = await matrix(o.features, '--features', m);
  const fit = await matrix(o.fitFeatures, '--fit-features', m);
  sameDim(fit, x, '--features');
  switch (m) {
    case 'react': {
      const detector = await detectors.react({ ...run, temperature: o.temperature, percentile: o.percentile }).fit({ features: fit.data });
      return detector.score({ features: x.data, ...(await head()) });
    }
    case 'mahalanobis':
    case 'relative-mahalanobis': {
      const labels = toLabels(await loadNpy(need(o.fitLabels, '--fit-labels', m), '--fit-labels'), '--fit-labels');
      const numClasses = labels.reduce((a, b) => Math.max(a, b), -1) + 1;
      const detector = m === 'mahalanobis' ? detectors.mahalanobis(run) : detectors.relativeMahalanobis(run);
      await detector.fit({ features: fit.data, labels, numClasses, dim: fit.cols });
      return detector.score(x.data);
    }
    case 'knn': {
      const detector = await detectors.knn({ ...run, k: o.k }).fit({ features: fit.data, dim: fit.cols });
      return detector.score(x.data);
    }
    case 'vim':
    case 'residual':
    case 'neco': {
      const principalDim = need(o.principalDim, '--principal-dim', m);
      const options = { ...run, principalDim };
      const detector = m === 'vim' ? detectors.vim(options) : m === 'residual' ? detectors.residual(options) : detectors.neco(options);
      await detector.fit({ features: fit.data, ...(await head()) });
      return detector.score(x.data);
    }
    case 'fdbd':
    case 'nci': {
      const detector = m === 'fdbd' ? detectors.fdbd(run) : detectors.nci({ ...run, alpha: o.alpha });
      await detector.fit({ features: fit.data, ...(await head()) });
      return detector.score(x.data);
    }
  }
  return fail('ERR_INVALID_ARGUMENT', '--method', METHODS.join(', '), describe(m));
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('OOD scores of a detector (higher = more in-distribution) as a float64 .npy')
    .addOption(new Option('--method <name>', 'detector').choices(METHODS).makeOptionMandatory())
    .option('--features <file>', 'N×d features to score (.npy)')
    .option('--logits <file>', 'N×C logits to score (.npy), for msp, maxlogit, energy, gen')
    .option('--fit-features <file>', 'ID (training) features to fit the detector (.npy)')
    .option('--fit-labels <file>', 'labels of the fit features (.npy)')
    .option('--weights <file>', 'classifier weights, C×d (.npy)')
    .option('--bias <file>', 'classifier bias, C (.npy)')
    .option('--temperature <T>', 'energy / react temperature (default 1)', parseNumber)
    .option('--k <k>', 'knn: the neighbour whose similarity is the score (default 50)', parseInteger)
    .option('--principal-dim <D>', 'vim, residual, neco: principal subspace dimension', parseInteger)
    .option('--percentile <p>', 'react: clipping percentile of ID activations (default 90)', parseNumber)
    .option('--alpha <a>', 'nci: weight of the L1 norm (default 0)', parseNumber)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['cpu', 'cuda', 'auto']).default('cpu'))
    .requiredOption('--out <file>', 'where to write the scores (.npy, float64)')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', EXAMPLE)
    .action(async (o: ScoreOptions) => {
      const scores = await computeScores(o);
      await writeNpy(o.out, { dtype: 'float64', shape: [scores.length], data: scores });
      let [min, max] = [Infinity, -Infinity];
      for (const v of scores) [min, max] = [Math.min(min, v), Math.max(max, v)];
      const summary = { method: o.method, n: scores.length, min, max, out: o.out };
      if (o.json) printJson(summary);
      else console.log(`${o.method}: ${summary.n} scores in [${summary.min.toPrecision(4)}, ${summary.max.toPrecision(4)}] → ${o.out}`);
    });
}
