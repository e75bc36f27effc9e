// scripts/python/ncstate.py against ncod: a state Python accumulates equals ncod's own to 1e-12 in every metric,
// each side verifies the other's checksum, and a state passes through Python unchanged.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeSafetensors, parseSafetensors, writeNpy } from '../../lib/data/index.js';
import { NcAccumulator } from '../../lib/index.js';
import { NCSTATE_SCRIPT, WRITE_STATE_PY, noPythonReason, numpyPython, runNcstatePython } from '../helpers/ncstate-python.js';
import { expectMetricsClose } from '../helpers/nc-close.js';
import { clusters, gaussian, rng } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const C = 6;
const dim = 20;
const N = 1500;
const data = clusters(N, dim, C, 7, { separation: 2.5, shift: 3 });
const ood = clusters(200, dim, 2, 8, { shift: 1 }).features;
const normal = gaussian(rng(3));
const weights = Float32Array.from({ length: C * dim }, () => normal());
const bias = Float32Array.from({ length: C }, () => normal());

describe.skipIf(!numpyPython)(`scripts/python/ncstate.py ↔ ncod${noPythonReason ? ` (${noPythonReason})` : ''}`, () => {
  const dir = tempDir('ncod-ncstate-py-');
  const files = { x: join(dir, 'x.npy'), y: join(dir, 'y.npy'), ood: join(dir, 'ood.npy') };

  async function writeInputs() {
    await writeNpy(files.x, { dtype: 'float32', shape: [N, dim], data: data.features });
    await writeNpy(files.y, { dtype: 'int32', shape: [N], data: data.labels });
    await writeNpy(files.ood, { dtype: 'float32', shape: [ood.length / dim, dim], data: ood });
  }

  it('a state Python writes from data loads in ncod with the metrics of ncod accumulating the same data (1e-12)', async () => {
    await writeInputs();
    const path = join(dir, 'py.ncstate');
    runNcstatePython(WRITE_STATE_PY, [files.x, files.y, files.ood, path, String(C), JSON.stringify([[0, 400], [400, 401], [401, N]])]);
    const fromPython = await NcAccumulator.load(path);
    const own = new NcAccumulator({ dim, numClasses: C });
    await own.add(data.features.subarray(0, 700 * dim), data.labels.subarray(0, 700)); // other batches, another shift
    await own.add(data.features.subarray(700 * dim), data.labels.subarray(700));
    await own.addOod(ood);
    expect(fromPython.state().counts).toEqual(own.state().counts);
    expect(fromPython.state().oodCount).toBe(200);
    for (const options of [{ weights, bias }, { weights, weightedGlobalMean: true }, {}]) {
      expectMetricsClose(await fromPython.finalize(options), await own.finalize(options), 1e-12);
    }
  });

  it('a state ncod writes passes through Python (load, verify, save) unchanged', async () => {
    const acc = new NcAccumulator({ dim, numClasses: C });
    await acc.add(data.features, data.labels);
    await acc.addOod(ood);
    const nodePath = join(dir, 'node.ncstate');
    const pyPath = join(dir, 'node-via-py.ncstate');
    await acc.save(nodePath);
    runNcstatePython('from ncstate import NcState\nNcState.load(sys.argv[1]).save(sys.argv[2])', [nodePath, pyPath]);
    expect((await NcAccumulator.load(pyPath)).state()).toEqual(acc.state());
    expect(statSync(pyPath).mode & 0o777).toBe(statSync(nodePath).mode & 0o777); // written like ncod writes files
    // A version 1 state (no checksum) too: Python reads it and writes version 2.
    const { tensors, metadata } = parseSafetensors(acc.serialize());
    const v1Path = join(dir, 'v1.ncstate');
    writeFileSync(v1Path, encodeSafetensors(tensors, { format: metadata.format, version: '1', dim: metadata.dim, classes: metadata.classes }));
    runNcstatePython('from ncstate import NcState\nNcState.load(sys.argv[1]).save(sys.argv[2])', [v1Path, pyPath]);
    expect(parseSafetensors(readFileSync(pyPath)).metadata).toMatchObject({ version: '2', writer: 'ncstate.py (format 2)' });
    expect((await NcAccumulator.load(pyPath)).state()).toEqual(acc.state());
    // An empty state (no shift yet) too.
    const emptyPath = join(dir, 'empty.ncstate');
    await new NcAccumulator({ dim, numClasses: C }).save(emptyPath);
    runNcstatePython('from ncstate import NcState\nNcState.load(sys.argv[1]).save(sys.argv[1])', [emptyPath]);
    expect((await NcAccumulator.load(emptyPath)).state().shift.length).toBe(0);
  });

  it('Python verifies the checksum: a changed byte is refused, by the library and by `ncstate.py check`', async () => {
    const acc = new NcAccumulator({ dim, numClasses: C });
    await acc.add(data.features.subarray(0, 100 * dim), data.labels.subarray(0, 100));
    const path = join(dir, 'damaged.ncstate');
    const bytes = acc.serialize();
    bytes[bytes.length - 3] ^= 0x10;
    writeFileSync(path, bytes);
    const out = runNcstatePython(
      'from ncstate import NcState, NcStateError\ntry:\n    NcState.load(sys.argv[1])\nexcept NcStateError as e:\n    print(e)',
      [path],
    );
    expect(out).toMatch(/expected contents matching the recorded SHA-256 [0-9a-f]{64}, got contents with SHA-256/);
    let status = 0;
    let stderr = '';
    try {
      execFileSync(numpyPython!, [NCSTATE_SCRIPT, 'check', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/^error: NC state .*damaged/);
    writeFileSync(path, acc.serialize());
    const report = JSON.parse(execFileSync(numpyPython!, [NCSTATE_SCRIPT, 'check', path], { encoding: 'utf8' }));
    expect(report).toEqual({ file: path, dim, classes: C, n: 100, ood: 0 });
  });

  it('Python merges like ncod, and refuses bad input with "expected X, got Y"', async () => {
    await writeInputs();
    const a = join(dir, 'm0.ncstate');
    const b = join(dir, 'm1.ncstate');
    const merged = join(dir, 'm.ncstate');
    runNcstatePython(WRITE_STATE_PY, [files.x, files.y, files.ood, a, String(C), JSON.stringify([[0, 900]])]);
    runNcstatePython(WRITE_STATE_PY, [files.x, files.y, files.ood, b, String(C), JSON.stringify([[900, N]])]);
    execFileSync(numpyPython!, [NCSTATE_SCRIPT, 'merge', merged, a, b]);
    const whole = new NcAccumulator({ dim, numClasses: C });
    await whole.add(data.features, data.labels);
    await whole.addOod(ood);
    await whole.addOod(ood);
    expectMetricsClose(await (await NcAccumulator.load(merged)).finalize({ weights, bias }), await whole.finalize({ weights, bias }), 1e-12);
    const errors = runNcstatePython(`
import numpy as np
from ncstate import NcState, NcStateError
s = NcState(3, 2)
for f in (lambda: s.add(np.zeros((2, 4)), [0, 1]), lambda: s.add(np.zeros((2, 3)), [0, 2]), lambda: s.add(np.full((1, 3), np.nan), [0]),
          lambda: s.add(np.zeros((2, 3)), [0.0, 1.0]), lambda: s.merge(NcState(3, 3)), lambda: NcState(0, 2), lambda: NcState(3, 1)):
    try:
        f(); print("accepted")
    except NcStateError as e:
        print(e)
`);
    expect(errors.trim().split('\n')).toEqual([
      'features: expected an N×3 array, got shape [2, 4]',
      'labels: expected classes in [0, 2), got 2',
      'features: expected finite values (after rounding to float32), got nan at [0, 0]',
      'labels: expected integers, got dtype float64',
      'merge: expected a state with dim 3 and 2 classes, got dim 3 and 3 classes',
      'dim: expected an integer in [1, 16384], got 0',
      'classes: expected an integer in [2, 1048576], got 1',
    ]);
  });
});
