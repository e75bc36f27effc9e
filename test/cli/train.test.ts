// `ncod train` and `ncod features` end to end: .npy clusters and real MNIST (two digits, one small epoch),
// checkpoints that load with the same accuracy, features equal to Trainer.features, and readable errors.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadMnist, readNpy, selectClasses } from '../../lib/data/index.js';
import { backends, loadCheckpoint, Trainer, type EpochStats, type TrainerState } from '../../lib/index.js';
import { clusters } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, runCli, saveNpy, tmpDir, vector } from './helpers.js';

const DIM = 8;
const C = 3;
const dir = tmpDir();
const train = clusters(300, DIM, C, 1);
const test = clusters(150, DIM, C, 2);
const files: Record<string, string> = {};

/** What `ncod train --json` prints. */
interface TrainReport {
  dataset: string;
  classes: number[] | null;
  train_rows: number;
  test_rows: number | null;
  input_dim: number;
  id_test_acc: number | null;
  id_train_acc: number;
  train_seconds: number;
  epochs: number;
  history: EpochStats[];
  options: TrainerState['options'];
  out: string;
}

const NPY_TRAIN = ['--layers', '16,8', '--epochs', '3', '--warmup-epochs', '0', '--batch', '16', '--lr', '1e-2', '--seed', '3'];

beforeAll(async () => {
  files.x = await saveNpy(dir, 'x', matrix(train.features, DIM));
  files.y = await saveNpy(dir, 'y', vector(train.labels));
  files.xTest = await saveNpy(dir, 'x_test', matrix(test.features, DIM));
  files.yTest = await saveNpy(dir, 'y_test', vector(test.labels));
  files.wide = await saveNpy(dir, 'wide', matrix(new Float32Array(10 * (DIM + 1)), DIM + 1));
});

describe('ncod train --dataset npy', () => {
  const model = join(dir, 'npy.safetensors');
  let report: TrainReport;

  beforeAll(() => {
    const data = ['--dataset', 'npy', '--features', files.x, '--labels', files.y, '--test-features', files.xTest, '--test-labels', files.yTest];
    report = cliJson(['train', ...data, ...NPY_TRAIN, '--out', model]) as TrainReport;
  });

  it('reports the run as JSON', () => {
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining(['id_test_acc', 'id_train_acc', 'train_seconds', 'epochs', 'history', 'options', 'train_rows', 'test_rows']),
    );
    expect(report).toMatchObject({ dataset: 'npy', classes: null, train_rows: 300, test_rows: 150, input_dim: DIM, epochs: 3 });
    expect(report.options).toMatchObject({ layers: [DIM, 16, 8], layerNorm: false, classes: C, projector: 'etf', projectorHidden: 32, alpha: 0.05, batch: 16, lr: 1e-2 });
    expect(report.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(Object.keys(report.history[0]).sort()).toEqual(['accuracy', 'ce', 'entropy', 'epoch', 'loss', 'lr', 'seconds']);
    expect(report.train_seconds).toBeGreaterThan(0);
    expect(report.id_test_acc).toBeGreaterThan(0.8);
  });

  it('saves a checkpoint equal to training in-process with the same options, with the same test accuracy', async () => {
    const loaded = await loadCheckpoint(model);
    expect(loaded.epoch).toBe(3);
    expect((await loaded.evaluate(test.features, test.labels)).accuracy).toBe(report.id_test_acc);
    const direct = new Trainer(report.options);
    await direct.fit(train.features, train.labels);
    const [a, b] = [loaded.state().params, direct.state().params];
    a.forEach((p, i) => expect(p).toEqual(b[i]));
  });

  it('features: the layer as float32 N×width, equal to Trainer.features; labels copied', async () => {
    const [out, labelsOut] = [join(dir, 'e.npy'), join(dir, 'e_labels.npy')];
    const args = ['features', '--model', model, '--dataset', 'npy', '--features', files.xTest, '--labels', files.yTest];
    const got = cliJson([...args, '--layer', 'encoder', '--out', out, '--labels-out', labelsOut]);
    expect(got).toEqual({ layer: 'encoder', rows: 150, width: 8, out, labels_out: labelsOut, head_out: null });
    const e = await readNpy(out);
    expect(e.dtype).toBe('float32');
    expect(e.shape).toEqual([150, 8]);
    const trainer = await loadCheckpoint(model);
    expect(e.data).toEqual(await trainer.features(test.features, 'encoder'));
    expect((await readNpy(labelsOut)).data).toEqual(test.labels);

    // --classes keeps and relabels rows in the order given: class 2 → 0, class 0 → 1.
    const kept = selectClasses({ features: test.features, labels: test.labels, rows: 150, dim: DIM }, [2, 0]);
    cliJson([...args, '--classes', '2,0', '--layer', 'proj1', '--out', out, '--labels-out', labelsOut]);
    const p = await readNpy(out);
    expect(p.shape).toEqual([kept.rows, 32]);
    expect(p.data).toEqual(await trainer.features(kept.features, 'proj1'));
    expect((await readNpy(labelsOut)).data).toEqual(kept.labels);
  });

  it('features --head-out: the classifier\'s W and b beside the projector features, which ncod metrics takes', async () => {
    const [z, y, head] = [join(dir, 'z.npy'), join(dir, 'z_labels.npy'), join(dir, 'head')];
    const args = ['features', '--model', model, '--dataset', 'npy', '--features', files.xTest, '--labels', files.yTest];
    const got = cliJson([...args, '--layer', 'projector', '--out', z, '--labels-out', y, '--head-out', head]) as { head_out: { weights: string; bias: string } };
    expect(got.head_out).toEqual({ weights: join(head, 'W.npy'), bias: join(head, 'b.npy') });
    const [W, b, feats] = await Promise.all([readNpy(got.head_out.weights), readNpy(got.head_out.bias), readNpy(z)]);
    expect([W.dtype, W.shape, b.shape]).toEqual(['float32', [C, 8], [C]]);
    // The logits the model computes are the projector features times Wᵀ plus b (float64 reference, float32 kernel).
    const logits = await (await loadCheckpoint(model)).features(test.features, 'logits');
    const [w, bias, f] = [W.data as Float32Array, b.data as Float32Array, feats.data as Float32Array];
    let worst = 0;
    for (let i = 0; i < 150; i++) {
      for (let c = 0; c < C; c++) {
        let v = bias[c];
        for (let k = 0; k < 8; k++) v += f[i * 8 + k] * w[c * 8 + k];
        worst = Math.max(worst, Math.abs(v - logits[i * C + c]) / (1 + Math.abs(v)));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    const metrics = cliJson(['metrics', '--features', z, '--labels', y, '--weights', got.head_out.weights, '--bias', got.head_out.bias]) as Record<string, number | null>;
    expect(metrics.nc4_ncc_agreement).toBeGreaterThan(0.5); // the classifier and the nearest class mean agree on most rows
    expect(Number.isFinite(metrics.nc3_self_duality)).toBe(true); // needs W: null without it

    // The classifier reads the projector: its W and b beside encoder features would not belong together.
    const message = expectCliError([...args, '--layer', 'encoder', '--out', z, '--head-out', head], 'ERR_INVALID_ARGUMENT');
    expect(message).toContain('--head-out: expected --layer projector');
  });

  it('without test data: id_test_acc is null; --projector none trains the baseline with α = 0', () => {
    const out = join(dir, 'base.safetensors');
    const r = cliJson(['train', '--dataset', 'npy', '--features', files.x, '--labels', files.y, ...NPY_TRAIN, '--projector', 'none', '--out', out]) as TrainReport;
    expect(r.id_test_acc).toBeNull();
    expect(r.test_rows).toBeNull();
    expect(r.options).toMatchObject({ projector: 'none', alpha: 0 });
    expect(r.id_train_acc).toBeGreaterThan(0.8);
    // The baseline has no projector layers.
    expectCliError(['features', '--model', out, '--dataset', 'npy', '--features', files.x, '--layer', 'proj1', '--out', join(dir, 'p.npy')], 'ERR_INVALID_ARGUMENT');
  });

  it('--layer-norm: LayerNorm in every encoder layer, stored in the checkpoint', async () => {
    const out = join(dir, 'ln.safetensors');
    const r = cliJson(['train', '--dataset', 'npy', '--features', files.x, '--labels', files.y, ...NPY_TRAIN, '--layer-norm', '--out', out]) as TrainReport;
    expect(r.options).toMatchObject({ layers: [DIM, 16, 8], layerNorm: true });
    expect(r.id_train_acc).toBeGreaterThan(0.8);
    const loaded = await loadCheckpoint(out);
    expect(loaded.options.layerNorm).toBe(true);
    const direct = new Trainer(r.options);
    await direct.fit(train.features, train.labels);
    expect(loaded.state().params).toEqual(direct.state().params);
    expect(loaded.state().params.length).toBe(2 * 4 + 2);
  });

  it('prints an epoch table and a summary without --json, one line per epoch on a piped stderr', () => {
    const r = runCli(['train', '--dataset', 'npy', '--features', files.x, '--labels', files.y, ...NPY_TRAIN, '--out', join(dir, 'text.safetensors')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^epoch\s+loss\s+ce\s+entropy\s+train acc/);
    expect(r.stdout).toMatch(/test accuracy\s+—/);
    expect(r.stderr.trim().split('\n').map((line) => line.split(':')[0])).toEqual(['epoch 1/3', 'epoch 2/3', 'epoch 3/3']);
  });
});

describe('ncod train --dataset mnist (digits 0 and 1, one epoch)', () => {
  const model = join(dir, 'mnist01.safetensors');

  it('trains on the official split, and the checkpoint and features reproduce the test accuracy', async () => {
    const r = cliJson(['train', '--dataset', 'mnist', '--classes', '0-1', '--epochs', '1', '--layers', '64', '--out', model]) as TrainReport;
    expect(r).toMatchObject({ dataset: 'mnist', classes: [0, 1], train_rows: 12_665, test_rows: 2_115, input_dim: 784, epochs: 1 });
    expect(r.id_test_acc).toBeGreaterThan(0.95);

    const testSet = selectClasses(await loadMnist('test'), [0, 1]);
    const trainer = await loadCheckpoint(model);
    expect((await trainer.evaluate(testSet.features, testSet.labels)).accuracy).toBe(r.id_test_acc);

    const out = join(dir, 'logits.npy');
    cliJson(['features', '--model', model, '--dataset', 'mnist', '--split', 'test', '--classes', '0-1', '--layer', 'logits', '--out', out]);
    const logits = await readNpy(out);
    expect(logits.shape).toEqual([2_115, 2]);
    expect(logits.data).toEqual(await trainer.features(testSet.features, 'logits'));
  });

  it('errors: unknown layer, classes absent from the data, features of the wrong width', () => {
    const features = ['features', '--model', model, '--out', join(dir, 'f.npy')];
    const stderr = expectCliError([...features, '--dataset', 'mnist', '--layer', 'enc2'], 'ERR_INVALID_ARGUMENT');
    expect(stderr).toContain('enc1, proj1, projector, encoder, logits');
    expectCliError([...features, '--dataset', 'mnist', '--classes', '0,12', '--layer', 'encoder'], 'ERR_INVALID_ARGUMENT');
    expectCliError([...features, '--dataset', 'npy', '--features', files.wide, '--layer', 'encoder'], 'ERR_SHAPE');
  });
});

describe('argument errors', () => {
  const out = ['--out', join(dir, 'never.safetensors')];

  it('unknown dataset, bad --classes, bad --layers, npy without --features: ERR_INVALID_ARGUMENT', () => {
    expect(expectCliError(['train', '--dataset', 'cifar10', ...out], 'ERR_INVALID_ARGUMENT')).toContain('mnist, fashion, npy');
    expectCliError(['train', '--dataset', 'mnist', '--classes', '4-1', ...out], 'ERR_INVALID_ARGUMENT');
    expectCliError(['train', '--dataset', 'mnist', '--classes', '0,x', ...out], 'ERR_INVALID_ARGUMENT');
    expectCliError(['train', '--dataset', 'mnist', '--layers', '64,-3', ...out], 'ERR_INVALID_ARGUMENT');
    expectCliError(['train', '--dataset', 'npy', '--labels', files.y, ...out], 'ERR_INVALID_ARGUMENT');
  });

  const cuda = backends().find((b) => b.name === 'cuda')!;
  it.skipIf(cuda.available)('--backend cuda without a usable CUDA plugin: ERR_BACKEND_UNAVAILABLE with the reason', () => {
    const stderr = expectCliError(['train', '--dataset', 'npy', '--features', files.x, '--labels', files.y, ...NPY_TRAIN, '--backend', 'cuda', ...out], 'ERR_BACKEND_UNAVAILABLE');
    expect(stderr).toContain(cuda.reason ?? '');
  });

  it('a missing checkpoint: ERR_INVALID_ARGUMENT', () => {
    expectCliError(['features', '--model', join(dir, 'missing.safetensors'), '--dataset', 'mnist', '--layer', 'encoder', ...out], 'ERR_INVALID_ARGUMENT');
  });

  it('a missing --out is a usage error', () => {
    const r = runCli(['train', '--dataset', 'mnist']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("required option '--out <file>' not specified");
  });

  it('--help of both commands has an example', () => {
    const train = runCli(['train', '--help']);
    expect(train.status).toBe(0);
    expect(train.stdout).toContain('$ ncod train --dataset mnist --classes 0-4');
    const features = runCli(['features', '--help']);
    expect(features.status).toBe(0);
    expect(features.stdout).toMatch(/\$ ncod features --model \S+ --dataset mnist/);
  });
});
