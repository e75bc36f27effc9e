// `ncod metrics` end to end: files in, the same numbers as the library out, and readable errors.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { formatValue } from '../../lib/cli/arrays.js';
import { toFloat32, type Tensor } from '../../lib/data/index.js';
import { ncMetrics, type NcMetrics } from '../../lib/index.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { cliJson, expectCliError, matrix, runCli, saveNpy, saveNpz, tmpDir, vector } from './helpers.js';

const N = 120;
const DIM = 6;
const C = 3;

const dir = tmpDir();
const id = clusters(N, DIM, C, 1);
const deep = clusters(N, DIM, C, 2, { separation: 6 }); // a second "layer" for the same labels
const ood = clusters(40, DIM, C, 3, { shift: 2 }).features;
const normal = gaussian(rng(4));
const weights = Float32Array.from({ length: C * DIM }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());

const files: Record<string, string> = {};

type Arrays = { features: Float32Array; labels: Int32Array; oodFeatures?: Float32Array } & Record<string, unknown>;

/**
 * What the CLI computes: it streams its files, so it equals the library's streaming route on the same rows in one
 * batch exactly (the files are small enough to be one chunk).
 */
async function streamed({ features, labels, oodFeatures, ...rest }: Arrays): Promise<NcMetrics> {
  return ncMetrics({
    ...rest,
    batches: [{ features, labels }],
    oodBatches: oodFeatures ? [{ features: oodFeatures }] : undefined,
    numClasses: C,
  });
}

/** The streaming route (float64 moments) and the in-memory one (a float32 projection GEMM) agree to 1e-7. */
function expectCloseToInMemory(got: NcMetrics, want: NcMetrics): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [key, value] of Object.entries(want)) {
    const v = got[key as keyof NcMetrics];
    if (value === null) expect(v, key).toBeNull();
    else expect(Math.abs((v as number) - value), key).toBeLessThanOrEqual(1e-7 * Math.abs(value) + 1e-12);
  }
}

beforeAll(async () => {
  const save = async (name: string, t: Tensor) => (files[name] = await saveNpy(dir, name, t));
  await save('penultimate', matrix(id.features, DIM));
  await save('deep', matrix(deep.features, DIM));
  await save('labels', vector(id.labels));
  await save('labels64', { dtype: 'int64', shape: [N], data: BigInt64Array.from(id.labels, BigInt) });
  await save('features64', matrix(Float64Array.from(id.features, (v) => v * 1.5), DIM));
  await save('weights', matrix(weights, DIM));
  await save('weightsT', { dtype: 'float32', shape: [DIM, C], data: weights });
  await save('bias', vector(bias));
  await save('ood', matrix(ood, DIM));
  const nan = id.features.slice();
  nan[5 * DIM + 2] = NaN;
  await save('nan', matrix(nan, DIM));
  await save('cube', { dtype: 'float32', shape: [N, 2, DIM / 2], data: id.features });
  const big = id.labels.slice();
  big[7] = C;
  await save('badLabels', vector(big));
  // Archive order deliberately not alphabetical: layers must come out in the archive's order.
  files.layersNpz = await saveNpz(dir, 'layers', { z_early: matrix(id.features, DIM), a_late: matrix(deep.features, DIM) });
  files.oodNpz = await saveNpz(dir, 'ood_layers', { a_late: matrix(ood, DIM), z_early: matrix(ood, DIM) });
  files.oodNpzPartial = await saveNpz(dir, 'ood_partial', { z_early: matrix(ood, DIM) });
  const truncated = join(dir, 'truncated.npy');
  writeFileSync(truncated, readFileSync(files.penultimate).subarray(0, 200));
  files.truncated = truncated;
}, 60_000);

describe('ncod metrics --json', () => {
  it('equals ncMetrics in-process, key for key', async () => {
    const out = cliJson(['metrics', '--features', files.penultimate, '--labels', files.labels]) as NcMetrics;
    expect(out).toEqual(await streamed({ features: id.features, labels: id.labels }));
    expectCloseToInMemory(out, await ncMetrics({ features: id.features, labels: id.labels, numClasses: C }));
  });

  it('reads float64 features and int64 labels', async () => {
    const out = cliJson(['metrics', '--features', files.features64, '--labels', files.labels64]);
    const features = toFloat32({ dtype: 'float64', shape: [N, DIM], data: Float64Array.from(id.features, (v) => v * 1.5) });
    expect(out).toEqual(await streamed({ features, labels: id.labels }));
  });

  it('with weights, bias and OOD features, NC3, NC4 and NC5 are computed; options pass through', async () => {
    const out = cliJson([
      'metrics',
      ...['--features', files.penultimate, '--labels', files.labels, '--weights', files.weights, '--bias', files.bias],
      ...['--ood-features', files.ood, '--weighted-global-mean', '--rank-tolerance', '1e-5', '--backend', 'cpu'],
    ]) as NcMetrics;
    const inputs = { features: id.features, labels: id.labels, weights, bias, oodFeatures: ood, weightedGlobalMean: true, rankTolerance: 1e-5 };
    expect(out).toEqual(await streamed(inputs));
    expectCloseToInMemory(out, await ncMetrics({ ...inputs, numClasses: C }));
    const needsInputs = ['nc2_equinorm_weights', 'nc3_self_duality', 'unc3_uniform_duality', 'nc3_papyan', 'nc4_ncc_agreement', 'nc4_bias_relation', 'nc5_ood_orthogonality'] as const;
    for (const key of needsInputs) {
      expect(out[key], key).not.toBeNull();
    }
  });

  it('--num-classes above the largest label leaves a class empty: ERR_EMPTY_CLASS', () => {
    expectCliError(['metrics', '--features', files.penultimate, '--labels', files.labels, '--num-classes', String(C + 1)], 'ERR_EMPTY_CLASS');
  });

  it('repeated --features give one row per layer, named after the files', async () => {
    const out = cliJson(['metrics', '--features', files.penultimate, '--features', files.deep, '--labels', files.labels]) as (NcMetrics & {
      layer: string;
    })[];
    expect(out.map((row) => row.layer)).toEqual(['penultimate', 'deep']);
    expect(out[0]).toEqual({ layer: 'penultimate', ...(await streamed({ features: id.features, labels: id.labels })) });
    expect(out[1]).toEqual({ layer: 'deep', ...(await streamed({ features: deep.features, labels: id.labels })) });
  });

  it('a .npz gives one row per array in archive order, with per-layer OOD features from a .npz', async () => {
    const out = cliJson(['metrics', '--features', files.layersNpz, '--labels', files.labels, '--ood-features', files.oodNpz]) as (NcMetrics & {
      layer: string;
    })[];
    expect(out.map((row) => row.layer)).toEqual(['z_early', 'a_late']);
    const late = await streamed({ features: deep.features, labels: id.labels, oodFeatures: ood });
    expect(out[1]).toEqual({ layer: 'a_late', ...late });
    expect(out[0].nc5_ood_orthogonality).not.toBeNull();
  });
});

describe('ncod metrics table', () => {
  it('shows the layer names, the count columns and only the metrics some layer has', async () => {
    const r = runCli(['metrics', '--features', files.penultimate, '--features', files.deep, '--labels', files.labels]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [header, rule, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header.split(/\s+/)).toEqual([
      'layer',
      'n',
      'dim',
      'classes',
      'rank',
      'nc1',
      'nc1_quotient',
      'nc1_cdnv',
      'nc2_equinorm_means',
      'nc2_equiangularity_means',
      'nc2_etf_error_means',
      'gnc2_hyperspherical_uniformity',
    ]);
    expect(rule).toMatch(/^[- ]+$/);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(['penultimate', 'deep']);
    const expected = await ncMetrics({ features: id.features, labels: id.labels, numClasses: C });
    expect(rows[0].split(/\s+/).slice(1, 6)).toEqual([String(N), String(DIM), String(C), String(expected.rank), expected.nc1!.toPrecision(4)]);
  });

  it('shows the OOD metric when given OOD features, and no weight metrics without weights', () => {
    const r = runCli(['metrics', '--features', files.penultimate, '--labels', files.labels, '--ood-features', files.ood]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('nc5_ood_orthogonality');
    expect(r.stdout).not.toContain('nc3_self_duality');
  });

  it("formats values with 4 significant digits and '—' for null", () => {
    expect([0.123456, 1234.5678, 2e-9, 0, null].map(formatValue)).toEqual(['0.1235', '1235', '2.000e-9', '0.000', '—']);
  });
});

describe('ncod metrics errors', () => {
  const base = ['metrics', '--labels'];

  it('labels out of range: ERR_LABEL_RANGE', () => {
    expectCliError([...base, files.badLabels, '--features', files.penultimate, '--num-classes', String(C)], 'ERR_LABEL_RANGE');
  });

  it('NaN features: ERR_NOT_FINITE', () => {
    expectCliError([...base, files.labels, '--features', files.nan], 'ERR_NOT_FINITE');
  });

  it('3-D features: ERR_SHAPE naming the shape', () => {
    const stderr = expectCliError([...base, files.labels, '--features', files.cube], 'ERR_SHAPE');
    expect(stderr).toContain(`[${N}, 2, ${DIM / 2}]`);
  });

  it('features and labels of different lengths: ERR_SHAPE', () => {
    expectCliError([...base, files.labels, '--features', files.ood], 'ERR_SHAPE');
  });

  it('transposed weights: ERR_SHAPE', () => {
    const stderr = expectCliError([...base, files.labels, '--features', files.penultimate, '--weights', files.weightsT], 'ERR_SHAPE');
    expect(stderr).toContain(`[${C}, ${DIM}]`);
  });

  it('integer bias: ERR_DTYPE; wrong bias shape: ERR_SHAPE', () => {
    expectCliError([...base, files.labels, '--features', files.penultimate, '--weights', files.weights, '--bias', files.labels], 'ERR_DTYPE');
    expectCliError([...base, files.labels, '--features', files.penultimate, '--weights', files.weights, '--bias', files.ood], 'ERR_SHAPE');
  });

  it('weights with several layers: ERR_INVALID_ARGUMENT saying why', () => {
    const stderr = expectCliError(
      [...base, files.labels, '--features', files.penultimate, '--features', files.deep, '--weights', files.weights],
      'ERR_INVALID_ARGUMENT',
    );
    expect(stderr).toContain('single layer');
  });

  it('OOD .npz without an array for some layer: ERR_INVALID_ARGUMENT naming it', () => {
    const args = [...base, files.labels, '--features', files.layersNpz, '--ood-features', files.oodNpzPartial];
    const stderr = expectCliError(args, 'ERR_INVALID_ARGUMENT');
    expect(stderr).toContain('a_late');
  });

  it('a truncated .npy: ERR_FILE_FORMAT', () => {
    expectCliError([...base, files.labels, '--features', files.truncated], 'ERR_FILE_FORMAT');
  });

  it('a missing file: ERR_INVALID_ARGUMENT with the path', () => {
    const missing = join(dir, 'nope.npy');
    const stderr = expectCliError([...base, files.labels, '--features', missing], 'ERR_INVALID_ARGUMENT');
    expect(stderr).toContain(`expected an existing file, got ${missing}`);
  });

  it('a missing required option: commander usage error, non-zero exit', () => {
    const r = runCli(['metrics', '--features', files.penultimate]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("required option '--labels <file>' not specified");
  });

  it('a non-integer --num-classes: usage error', () => {
    const r = runCli([...base, files.labels, '--features', files.penultimate, '--num-classes', 'three']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('expected an integer');
  });
});

describe('ncod metrics --help', () => {
  it('shows an example', () => {
    const r = runCli(['metrics', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples?:\n\s+\$ ncod metrics --features/);
  });
});
