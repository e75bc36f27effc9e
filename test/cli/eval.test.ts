// `ncod eval` end to end: the same report as evaluateOOD in-process, table output, and errors.
import { beforeAll, describe, expect, it } from 'vitest';

import type { Tensor } from '../../lib/data/index.js';
import { evaluateOOD } from '../../lib/ood/evaluate.js';
import { gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, runCli, saveNpy, tmpDir, vector } from './helpers.js';

const dir = tmpDir();
const normal = gaussian(rng(7));
// float32 ID scores and float64 OOD scores: both dtypes are read, and the float64 precision is kept.
const idScores = Float32Array.from({ length: 300 }, () => normal() + 1.5);
const oodScores = Float64Array.from({ length: 200 }, () => normal());
const files: Record<string, string> = {};

beforeAll(async () => {
  const save = async (name: string, t: Tensor) => (files[name] = await saveNpy(dir, name, t));
  await save('id', vector(idScores));
  await save('ood', vector(oodScores));
  const nan = oodScores.slice();
  nan[3] = NaN;
  await save('nan', vector(nan));
  await save('column', matrix(oodScores, 1));
  await save('labels', vector(Int32Array.from([0, 1, 1])));
});

const base = () => ['eval', '--id-scores', files.id, '--ood-scores', files.ood];

describe('ncod eval --json', () => {
  it('equals evaluateOOD in-process', () => {
    const out = cliJson(base());
    expect(out).toEqual(evaluateOOD(idScores, oodScores));
    expect(Object.keys(out as object).sort()).toEqual(
      ['auroc', 'fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out', 'ap_in', 'ap_out', 'detection_error', 'n_id', 'n_ood'].sort(),
    );
  });

  it('--tpr changes the FPR operating point', () => {
    expect(cliJson([...base(), '--tpr', '0.8'])).toEqual(evaluateOOD(idScores, oodScores, { tpr: 0.8 }));
  });

  it('--bootstrap 50 --seed 1 adds the same confidence intervals', () => {
    const out = cliJson([...base(), '--bootstrap', '50', '--seed', '1']) as { ci: Record<string, [number, number]> };
    expect(out).toEqual(evaluateOOD(idScores, oodScores, { bootstrap: { samples: 50, seed: 1 } }));
    expect(Object.keys(out.ci)).toContain('auroc');
    expect(out.ci.auroc[0]).toBeLessThanOrEqual(out.ci.auroc[1]);
  });
});

describe('ncod eval table', () => {
  it('lists every metric and says which FPR convention is which', () => {
    const r = runCli(base());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = evaluateOOD(idScores, oodScores);
    expect(r.stdout).toMatch(new RegExp(`^auroc\\s+${report.auroc.toPrecision(4)}$`, 'm'));
    for (const key of ['fpr95', 'fpr95_ood_positive', 'aupr_in', 'aupr_out', 'ap_in', 'ap_out', 'detection_error']) {
      expect(r.stdout).toMatch(new RegExp(`^${key}\\s`, 'm'));
    }
    expect(r.stdout).toContain('fpr95: paper convention, ID positive; fpr95_ood_positive: OpenOOD/pytorch-ood');
    expect(r.stdout).toContain('300 ID scores, 200 OOD scores');
  });

  it('adds CI columns when bootstrapping', () => {
    const r = runCli([...base(), '--bootstrap', '20']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('95% CI low');
  });
});

describe('ncod eval errors', () => {
  it('NaN scores: ERR_NOT_FINITE', () => {
    expectCliError(['eval', '--id-scores', files.id, '--ood-scores', files.nan], 'ERR_NOT_FINITE');
  });

  it('2-D scores: ERR_SHAPE; integer scores: ERR_DTYPE', () => {
    expectCliError(['eval', '--id-scores', files.id, '--ood-scores', files.column], 'ERR_SHAPE');
    expectCliError(['eval', '--id-scores', files.labels, '--ood-scores', files.ood], 'ERR_DTYPE');
  });

  it('a TPR outside (0, 1]: ERR_INVALID_ARGUMENT', () => {
    expectCliError([...base(), '--tpr', '1.5'], 'ERR_INVALID_ARGUMENT');
  });

  it('--seed without --bootstrap: ERR_INVALID_ARGUMENT', () => {
    expectCliError([...base(), '--seed', '3'], 'ERR_INVALID_ARGUMENT');
  });

  it('a missing file: ERR_INVALID_ARGUMENT', () => {
    const stderr = expectCliError(['eval', '--id-scores', files.id, '--ood-scores', `${dir}/missing.npy`], 'ERR_INVALID_ARGUMENT');
    expect(stderr).toContain('expected an existing file');
  });

  it('a missing required option: usage error, non-zero exit', () => {
    const r = runCli(['eval', '--id-scores', files.id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("required option '--ood-scores <file>' not specified");
  });
});

describe('ncod eval --help', () => {
  it('shows an example', () => {
    expect(runCli(['eval', '--help']).stdout).toMatch(/Example:\n\s+\$ ncod eval --id-scores/);
  });
});
