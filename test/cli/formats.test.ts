// Every command that reads arrays takes the same formats and file:name syntax, with the same numbers as .npy.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { encodeSafetensors, readNpy } from '../../lib/data/index.js';
import { findPython } from '../helpers/python.js';
import { clusters } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, runCli, saveNpy, tmpDir, vector } from './helpers.js';

const HELPERS = fileURLToPath(new URL('../helpers', import.meta.url));
const N = 90;
const DIM = 6;
const C = 3;
const dir = tmpDir();
const p = (name: string) => join(dir, name);
const id = clusters(N, DIM, C, 1);
const deep = clusters(N, DIM, C, 2, { separation: 5 });
const test = clusters(40, DIM, C, 3, { shift: 1 });

beforeAll(async () => {
  await saveNpy(dir, 'x', matrix(id.features, DIM));
  await saveNpy(dir, 'deep', matrix(deep.features, DIM));
  await saveNpy(dir, 'y', vector(id.labels));
  await saveNpy(dir, 'test', matrix(test.features, DIM));
  writeFileSync(
    p('feats.safetensors'),
    encodeSafetensors(
      new Map([
        ['feats', { dtype: 'float32', shape: [N, DIM], data: id.features }],
        ['other', { dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]) }],
      ]),
    ),
  );
  // The same arrays as torch.save files and a Fortran-order, big-endian .npy, written in Python.
  const script = `
import sys, os, numpy as np
sys.path.insert(0, sys.argv[1]); import torch_save as ts
d = sys.argv[2]
x, deep, y, t = (np.load(os.path.join(d, n + '.npy')) for n in ('x', 'deep', 'y', 'test'))
ts.save(ts.tensor(y.astype(np.int64).reshape(-1, 1)), os.path.join(d, 'labels.pt'))
ts.save(ts.tensor(x), os.path.join(d, 'bare.pt'))
ts.save({'train': ts.tensor(x), 'y': ts.tensor(y.astype(np.uint8)), 'layers': {'early': ts.tensor(x), 'late': ts.tensor(deep)},
         'note': 'not a tensor', 'step': 3}, os.path.join(d, 'run.pt'))
# A transposed view, as torch saves t.T of a (DIM, M) tensor: sizes (M, DIM), strides (1, M).
base = ts.tensor(np.ascontiguousarray(t.T))
ts.save({'test': ts.view(base, 0, t.shape, (1, t.shape[0]))}, os.path.join(d, 'view.pt'))
np.save(os.path.join(d, 'xF_be.npy'), np.asfortranarray(x.astype('>f4')))
np.savez(os.path.join(d, 'both.npz'), test=t, y=y)
`;
  execFileSync(findPython(['numpy']), ['-c', script, HELPERS, dir]);
}, 60_000);

describe('the same numbers from every format', () => {
  it('metrics: .safetensors:name features and .pt (N, 1) int64 labels = .npy', () => {
    const want = cliJson(['metrics', '--features', p('x.npy'), '--labels', p('y.npy')]);
    expect(cliJson(['metrics', '--features', `${p('feats.safetensors')}:feats`, '--labels', p('labels.pt')])).toEqual(want);
    expect(cliJson(['metrics', '--features', p('xF_be.npy'), '--labels', `${p('run.pt')}:y`])).toEqual(want);
    // A .pt of one bare tensor: the layer is named after the file.
    const table = runCli(['metrics', '--features', p('bare.pt'), '--labels', p('y.npy')]);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[2]).toMatch(/^\s*bare\s/);
  });

  it('metrics: a .pt group gives one row per layer, named by its keys', () => {
    const rows = cliJson(['metrics', '--features', `${p('run.pt')}:layers`, '--labels', p('y.npy')]) as { layer: string }[];
    const want = cliJson(['metrics', '--features', p('x.npy'), '--features', p('deep.npy'), '--labels', p('y.npy')]) as { layer: string }[];
    expect(rows.map((r) => r.layer)).toEqual(['early', 'late']);
    expect(rows.map(({ layer: _l, ...r }) => r)).toEqual(want.map(({ layer: _l, ...r }) => r));
  });

  it('score: .pt fit features and labels, a transposed .pt view and .npz:name test features = .npy', async () => {
    const args = (fit: string, labels: string, features: string, out: string) => ['score', '--method', 'mahalanobis', '--fit-features', fit, '--fit-labels', labels, '--features', features, '--out', p(out)];
    cliJson(args(p('x.npy'), p('y.npy'), p('test.npy'), 'want.npy'));
    cliJson(args(`${p('run.pt')}:train`, `${p('run.pt')}:y`, `${p('view.pt')}:test`, 'got1.npy'));
    cliJson(args(`${p('feats.safetensors')}:feats`, p('labels.pt'), `${p('both.npz')}:test`, 'got2.npy'));
    const want = await readNpy(p('want.npy'));
    expect(want.shape).toEqual([40]);
    expect(await readNpy(p('got1.npy'))).toEqual(want);
    expect(await readNpy(p('got2.npy'))).toEqual(want);
  });

  it('eval: float64 scores from a .safetensors by name = .npy', async () => {
    const id = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const ood = Float64Array.from({ length: 20 }, (_, i) => Math.cos(i) - 0.5);
    writeFileSync(p('scores.safetensors'), encodeSafetensors(new Map([['id', { dtype: 'float64', shape: [30], data: id }], ['ood', { dtype: 'float64', shape: [20], data: ood }]])));
    const want = cliJson(['eval', '--id-scores', `${p('scores.safetensors')}:id`, '--ood-scores', `${p('scores.safetensors')}:ood`]);
    await saveNpy(dir, 'id', vector(id));
    await saveNpy(dir, 'ood', vector(ood));
    expect(cliJson(['eval', '--id-scores', p('id.npy'), '--ood-scores', p('ood.npy')])).toEqual(want);
  });

  it('train and features: --dataset npy reads .pt and .safetensors too', () => {
    const trainArgs = ['--epochs', '1', '--warmup-epochs', '0', '--layers', '8', '--batch', '32', '--projector', 'none'];
    const a = cliJson(['train', '--dataset', 'npy', '--features', p('x.npy'), '--labels', p('y.npy'), ...trainArgs, '--out', p('a.safetensors')]) as { history: { loss: number }[]; id_train_acc: number };
    const b = cliJson(['train', '--dataset', 'npy', '--features', `${p('run.pt')}:train`, '--labels', p('labels.pt'), ...trainArgs, '--out', p('b.safetensors')]) as typeof a;
    expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
    expect(b.id_train_acc).toBe(a.id_train_acc);
    cliJson(['features', '--model', p('a.safetensors'), '--dataset', 'npy', '--features', p('x.npy'), '--layer', 'logits', '--out', p('fa.npy')]);
    cliJson(['features', '--model', p('a.safetensors'), '--dataset', 'npy', '--features', `${p('feats.safetensors')}:feats`, '--layer', 'logits', '--out', p('fb.npy')]);
    expect(readFileSync(p('fb.npy'))).toEqual(readFileSync(p('fa.npy')));
  });
});

describe('errors and help', () => {
  it('several arrays without a name, and an unknown name, list the names', () => {
    const several = expectCliError(['score', '--method', 'knn', '--fit-features', p('feats.safetensors'), '--features', p('test.npy'), '--out', p('s.npy')], 'ERR_INVALID_ARGUMENT');
    expect(several).toContain("--fit-features: expected one array: name it with");
    expect(several).toContain("'feats', 'other', got 2 arrays");
    const unknown = expectCliError(['metrics', '--features', `${p('run.pt')}:nope`, '--labels', p('y.npy')], 'ERR_INVALID_ARGUMENT');
    expect(unknown).toContain("named 'train', 'y', 'layers.early', 'layers.late' in");
    expect(unknown).toContain("got 'nope'");
  });

  it('2-D float labels are ERR_SHAPE, 1-D float labels ERR_DTYPE', () => {
    expect(expectCliError(['metrics', '--features', p('x.npy'), '--labels', `${p('run.pt')}:train`], 'ERR_SHAPE')).toContain('--labels');
    expect(expectCliError(['metrics', '--features', p('x.npy'), '--labels', `${p('feats.safetensors')}:other`], 'ERR_DTYPE')).toContain('--labels: expected integer labels');
  });

  it('every array-reading command documents the formats in --help', () => {
    for (const command of ['metrics', 'score', 'eval', 'train', 'features', 'bench paper']) {
      const r = runCli([...command.split(' '), '--help']);
      expect(r.status, command).toBe(0);
      expect(r.stdout, command).toContain('Arrays: .npy (C or Fortran order, either byte order), .npz, .safetensors, or torch.save .pt/.pth files;');
      expect(r.stdout, command).toContain('file:name');
    }
  });
});
