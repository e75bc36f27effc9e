// Checkpoint formats: version 3 writes named tensors (layers.<l>.weight …, head.weight, adam.m.<name>), versions 1
// and 2 (flat param.<i>, adam_m.<i>, adam_v.<i>) still load; all three give the same model.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { readSafetensors, writeSafetensors, type Tensor } from '../../lib/data/index.js';
import { checkpointTensors, classifierHead, integrityDigest, loadCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint.js';
import { Trainer, type TrainerOptions } from '../../lib/train/trainer.js';
import { clusters } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const data = clusters(120, 6, 3, 5);
const OPTIONS: TrainerOptions = { layers: [6, 5, 4], classes: 3, layerNorm: true, projectorHidden: 8, epochs: 2, batch: 32, seed: 3 };

async function trained(options: TrainerOptions = OPTIONS): Promise<Trainer> {
  const t = new Trainer(options);
  await t.trainEpoch(data.features, data.labels);
  return t;
}

const PARAMS: [string, number[]][] = [
  ['layers.0.weight', [5, 6]], ['layers.0.bias', [5]], ['layers.0.norm.weight', [5]], ['layers.0.norm.bias', [5]],
  ['layers.1.weight', [4, 5]], ['layers.1.bias', [4]], ['layers.1.norm.weight', [4]], ['layers.1.norm.bias', [4]],
  ['head.weight', [3, 4]], ['head.bias', [3]],
];

describe('checkpoint version 3: named tensors', () => {
  it('names every parameter and AdamW moment with its shape, holding the trainer state', async () => {
    const dir = tempDir('ncod-ckpt-v3-');
    const t = await trained();
    await saveCheckpoint(t, `${dir}/m.safetensors`);
    const { tensors, metadata } = await readSafetensors(`${dir}/m.safetensors`);
    expect(metadata.version).toBe('3');
    const expected = ['', 'adam.m.', 'adam.v.'].flatMap((prefix) => PARAMS.map(([name, shape]) => [`${prefix}${name}`, shape]));
    expect([...tensors.entries()].map(([name, x]) => [name, x.shape]).sort()).toEqual(expected.sort());
    const state = t.state();
    PARAMS.forEach(([name], i) => {
      expect(tensors.get(name)!.data).toEqual(state.params[i]);
      expect(tensors.get(`adam.m.${name}`)!.data).toEqual(state.m[i]);
      expect(tensors.get(`adam.v.${name}`)!.data).toEqual(state.v[i]);
    });
    expect(state.m.some((m) => m.some((v) => v !== 0))).toBe(true); // a trained state, not zeros
  });

  it('the classifier head: logits = projector features · head.weightᵀ + head.bias (float64 reference)', async () => {
    const t = await trained();
    const head = classifierHead(t);
    expect([head.shape, head.layer]).toEqual([[3, 4], 'projector']);
    const z = await t.features(data.features, 'projector');
    const logits = await t.features(data.features, 'logits');
    let worst = 0;
    for (let i = 0; i < data.labels.length; i++) {
      for (let c = 0; c < 3; c++) {
        let v = head.bias[c];
        for (let k = 0; k < 4; k++) v += z[i * 4 + k] * head.weight[c * 4 + k];
        worst = Math.max(worst, Math.abs(v - logits[i * 3 + c]));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect(classifierHead(await trained({ ...OPTIONS, projector: 'none', layerNorm: false })).layer).toBe('encoder');
  });
});

describe('versions 1, 2 and 3 load to the same model', () => {
  it('same parameters, moments, step and logits from each version', async () => {
    const dir = tempDir('ncod-ckpt-versions-');
    const t = await trained();
    const state = t.state();
    await saveCheckpoint(t, `${dir}/v3.safetensors`);
    const { metadata: v3 } = await readSafetensors(`${dir}/v3.safetensors`);
    const base = { format: v3.format!, options: v3.options!, step: v3.step!, epoch: v3.epoch! };

    const flat = checkpointTensors(state, '2');
    expect([...flat.keys()].slice(0, 2)).toEqual(['param.0', 'param.1']);
    const v2 = { ...base, version: '2' };
    await writeSafetensors(`${dir}/v2.safetensors`, flat, { ...v2, sha256: integrityDigest(v2, flat) });
    const legacy = createHash('sha256');
    for (const prefix of ['param', 'adam_m', 'adam_v']) for (let i = 0; flat.has(`${prefix}.${i}`); i++) legacy.update(flat.get(`${prefix}.${i}`)!.data as Float32Array);
    await writeSafetensors(`${dir}/v1.safetensors`, checkpointTensors(state, '1'), { ...base, version: '1', sha256: legacy.digest('hex') });

    const logits = await t.features(data.features, 'logits');
    for (const v of ['1', '2', '3']) {
      const loaded = await loadCheckpoint(`${dir}/v${v}.safetensors`);
      const s = loaded.state();
      expect(s.params, `v${v}`).toEqual(state.params);
      expect(s.m).toEqual(state.m);
      expect(s.v).toEqual(state.v);
      expect([s.step, s.epoch]).toEqual([state.step, state.epoch]);
      expect(await loaded.features(data.features, 'logits')).toEqual(logits);
    }
  });

  it('version 3 refuses flat names, a wrong shape and a tensor too many (each correctly signed): ERR_FILE_FORMAT', async () => {
    const dir = tempDir('ncod-ckpt-bad-');
    const t = await trained();
    await saveCheckpoint(t, `${dir}/v3.safetensors`);
    const { tensors, metadata } = await readSafetensors(`${dir}/v3.safetensors`);
    const signed = async (name: string, edit: (m: Map<string, Tensor>) => Map<string, Tensor>) => {
      const edited = edit(new Map(tensors));
      const { sha256: _old, ...rest } = metadata;
      await writeSafetensors(`${dir}/${name}`, edited, { ...rest, sha256: integrityDigest(rest, edited) } as Record<string, string>);
      return loadCheckpoint(`${dir}/${name}`);
    };
    await expect(signed('flat.safetensors', () => checkpointTensors(t.state(), '2'))).rejects.toMatchObject({
      code: 'ERR_FILE_FORMAT', message: expect.stringContaining('a tensor layers.0.weight of 30 elements'),
    });
    const w = tensors.get('layers.0.weight')!;
    await expect(signed('shape.safetensors', (m) => m.set('layers.0.weight', { ...w, shape: [6, 5] }))).rejects.toMatchObject({
      code: 'ERR_FILE_FORMAT', message: expect.stringContaining('layers.0.weight of shape 5×6, got 6×5'),
    });
    await expect(signed('extra.safetensors', (m) => m.set('projector.weight', w))).rejects.toMatchObject({
      code: 'ERR_FILE_FORMAT', message: expect.stringContaining('also projector.weight'),
    });
  });
});
