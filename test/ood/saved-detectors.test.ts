// Saved detectors: every method (METHODS) fits, calibrates, saves, loads and scores bit-identically; damaged, newer
// or inconsistent files are refused with ERR_FILE_FORMAT.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { readSafetensors, writeSafetensors } from '../../lib/data/index.js';
import { detectors, METHODS, type Method } from '../../lib/index.js';
import type { Detector } from '../../lib/ood/detectors.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const [N, D, C] = [403, 13, 5];
const train = clusters(N, D, C, 1);
const heldOut = clusters(211, D, C, 2);
const queries = clusters(97, D, C, 3, { shift: 0.7 });
const normal = gaussian(rng(4));
const weights = Float32Array.from({ length: C * D }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());
const head = { weights, bias, numClasses: C };

/** A fitted detector of each method, with the options a user would plausibly pass. */
async function fitted(method: Method): Promise<Detector<Float32Array>> {
  const features = train.features;
  switch (method) {
    case 'msp':
      return detectors.msp().fit(head);
    case 'maxlogit':
      return detectors.maxLogit().fit({ weights, numClasses: C }); // no bias
    case 'energy':
      return detectors.energy({ temperature: 1.7 }).fit(head);
    case 'gen':
      return detectors.gen({ gamma: 0.3, topM: 3 }).fit(head);
    case 'entropy':
      return detectors.entropy({ temperature: 0.6 }).fit(head);
    case 'react':
      return detectors.react({ percentile: 85 }).fit({ features, ...head });
    case 'mahalanobis':
      return detectors.mahalanobis().fit({ features, labels: train.labels, numClasses: C });
    case 'relative-mahalanobis':
      return detectors.relativeMahalanobis({ ridge: 1e-4 }).fit({ features, labels: train.labels, numClasses: C });
    case 'mahalanobis++':
      return detectors.mahalanobisPlusPlus({ covariance: 'pinv' }).fit({ features, labels: train.labels, numClasses: C });
    case 'relative-mahalanobis++':
      return detectors.relativeMahalanobisPlusPlus().fit({ features, labels: train.labels, numClasses: C });
    case 'knn':
      return detectors.knn({ k: 7 }).fit({ features, dim: D });
    case 'vim':
      return detectors.vim({ principalDim: 6 }).fit({ features, ...head });
    case 'residual':
      return detectors.residual({ principalDim: 4 }).fit({ features, ...head });
    case 'neco':
      return detectors.neco({ principalDim: 5 }).fit({ features, ...head });
    case 'fdbd':
      return detectors.fdbd().fit({ features, ...head });
    case 'nci':
      return detectors.nci({ alpha: 0.01 }).fit({ features, ...head });
  }
}

const bytesOf = (a: Float64Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('saved detectors', () => {
  const dir = tempDir('ncod-saved-');

  it.each(METHODS)('%s: save → load scores bit-identically, with its calibration, layer and fit hash', async (method) => {
    const det = await fitted(method);
    const calibration = await det.calibrate(heldOut.features, { tpr: 0.9 });
    const file = join(dir, `${method}.ncod`);
    await det.save(file, { layer: 'penultimate' });

    const loaded = await detectors.load(file);
    expect(loaded.method).toBe(method);
    expect(loaded.input).toEqual({ name: 'features', dim: D });
    expect(loaded.layer).toBe('penultimate');
    expect(loaded.fitDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.fitDigest).toBe(det.fitDigest);
    expect(loaded.calibration?.threshold).toBe(calibration.threshold);
    expect(loaded.calibration?.rank).toBe(Math.floor(212 * 0.1));

    const [a, b] = [await det.score(queries.features), await loaded.score(queries.features)];
    expect(bytesOf(b).equals(bytesOf(a))).toBe(true);
    const [da, db] = [await det.decide(queries.features), await loaded.decide(queries.features)];
    expect(bytesOf(db.pValue).equals(bytesOf(da.pValue))).toBe(true);
    expect(bytesOf(db.isOOD).equals(bytesOf(da.isOOD))).toBe(true);
    // The queries are shifted: some must be flagged, and the flags must follow the threshold.
    expect(db.isOOD.some((v) => v === 1)).toBe(true);
    db.isOOD.forEach((flag, i) => expect(flag).toBe(db.score[i] < calibration.threshold ? 1 : 0));

    // Saving the loaded detector again gives the same file, byte for byte.
    await loaded.save(join(dir, `${method}-again.ncod`));
    expect(readFileSync(join(dir, `${method}-again.ncod`)).equals(readFileSync(file))).toBe(true);
  });

  it('a logit detector bound to a class count scores logit rows, and saves as such', async () => {
    const logits = Float32Array.from({ length: 50 * C }, () => 3 * normal());
    const det = await detectors.energy().fit({ numClasses: C });
    expect(det.input).toEqual({ name: 'logits', dim: C });
    const file = join(dir, 'energy-logits.ncod');
    await det.save(file);
    const loaded = await detectors.load(file);
    expect(loaded.input).toEqual({ name: 'logits', dim: C });
    const expected = await detectors.energy().score({ logits, numClasses: C });
    expect(bytesOf(await loaded.score(logits)).equals(bytesOf(expected))).toBe(true);
  });

  it('refuses to save an unfitted or unbound detector, and to score after dispose()', async () => {
    await expect(detectors.knn().save(join(dir, 'x.ncod'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(detectors.energy().save(join(dir, 'x.ncod'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const det = await fitted('mahalanobis');
    det.dispose();
    await expect(det.score(queries.features)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => det.fittedState()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('decide() needs a calibration, and a new fit drops the old one', async () => {
    const det = await fitted('knn');
    await expect(det.decide(queries.features)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await det.calibrate(heldOut.features);
    expect(det.calibration?.tpr).toBe(0.95);
    await (det as unknown as { fit(i: unknown): Promise<unknown> }).fit({ features: train.features, dim: D });
    expect(det.calibration).toBeUndefined();
  });

  describe('damaged and foreign files', () => {
    async function saved(): Promise<string> {
      const file = join(dir, 'victim.ncod');
      const det = await fitted('vim');
      await det.calibrate(heldOut.features);
      await det.save(file, { layer: 'enc3' });
      return file;
    }

    it('a flipped bit anywhere — header metadata, a fitted tensor, the calibration scores — is refused', async () => {
      const file = await saved();
      const original = readFileSync(file);
      const headerLength = Number(original.readBigUInt64LE(0));
      const header = original.subarray(8, 8 + headerLength).toString();
      const offsets = [
        8 + header.indexOf('"enc3"') + 2, // the layer name inside the metadata
        8 + header.indexOf('principalDim\\":6') + 15, // a hyperparameter (JSON inside a JSON string): 6 → 7
        8 + headerLength + 17, // a byte of the first tensor
        original.length - 3, // a byte of the last tensor
      ];
      expect(offsets.slice(0, 2).every((o) => o > 8 + 16)).toBe(true); // both found in the header
      for (const offset of offsets) {
        const damaged = Buffer.from(original);
        damaged[offset] ^= 1;
        writeFileSync(file, damaged);
        await expect(detectors.load(file), `offset ${offset}`).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(/SHA-256/) });
      }
    });

    it('a newer format version is refused, saying to upgrade; a foreign safetensors file is refused', async () => {
      const file = await saved();
      const { tensors, metadata } = await readSafetensors(file);
      await writeSafetensors(file, tensors, { ...metadata, version: '2' });
      await expect(detectors.load(file)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(/upgrade ncod/) });
      await writeSafetensors(file, tensors, { format: 'something.else' });
      await expect(detectors.load(file)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT', message: expect.stringMatching(/ncod\.detector/) });
      writeFileSync(file, Buffer.from('not a detector at all'));
      await expect(detectors.load(file)).rejects.toMatchObject({ code: 'ERR_FILE_FORMAT' });
    });
  });
});
