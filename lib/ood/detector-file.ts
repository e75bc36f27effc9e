// Saved detectors: one .safetensors file per fitted detector, written by `det.save(path)` / `ncod fit`, read by
// `detectors.load(path)` / `ncod score --detector` / `ncod serve`.
//
// Tensors: `state.<name>` for each fitted array (float32 or float64 exactly as fitted), `state.values` (float64,
// the fitted scalars, in the order metadata.values names them: bit-exact, unlike JSON), `calibration.scores`
// (float64, ascending) when calibrated. Metadata (strings): format "ncod.detector", version "1", method,
// hyperparameters (JSON), input (JSON {name, dim}), numClasses, values (JSON names), layer, direction
// "higher-is-in-distribution", ncod (the writing version), fit_sha256 (SHA-256 of the fit data, "" when none),
// calibration (JSON {tpr, threshold, n, rank}) when calibrated, and sha256: the SHA-256 of a canonical form of all
// other metadata (sorted keys) and of every tensor's name, dtype, shape and bytes (sorted by name), each part
// length-prefixed. load() refuses a file whose sha256 does not match, so a flipped bit anywhere is caught.
import { createHash } from 'node:crypto';

import { readSafetensors, writeSafetensors, type Tensor } from '../data/index.js';
import { NcodError, fail } from '../errors.js';
import { version as ncodVersion } from '../version.js';
import { conformalCalibration, type Calibration } from './calibration.js';
import type { Detector, DetectorOptions, FittedState, InputSpec } from './detectors/common.js';
import { METHOD_SPECS } from './detectors.js';
import { METHODS, type Method } from './method-names.js';
import type { FloatArray } from '../validate.js';

const FORMAT = 'ncod.detector';
const VERSION = 1;

/** Any loaded detector: it scores Float32Array rows of its `input` (features, or logits for unbound-head logit detectors). */
export type LoadedDetector = Detector<FloatArray> & { readonly input: InputSpec };

function integrity(metadata: Record<string, string>, tensors: ReadonlyMap<string, Tensor>): string {
  const hash = createHash('sha256');
  const part = (bytes: Uint8Array) => {
    hash.update(new Uint8Array(new Float64Array([bytes.byteLength]).buffer));
    hash.update(bytes);
  };
  const text = (s: string) => part(new TextEncoder().encode(s));
  const keys = Object.keys(metadata).filter((k) => k !== 'sha256').sort();
  text(JSON.stringify(keys.map((k) => [k, metadata[k]])));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    text(JSON.stringify([name, t.dtype, t.shape]));
    part(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}

function asTensor(data: Float32Array | Float64Array): Tensor {
  return { dtype: data instanceof Float32Array ? 'float32' : 'float64', shape: [data.length], data };
}

export async function writeDetectorFile(path: string, detector: Detector<never>): Promise<void> {
  const state = detector.fittedState();
  const valueNames = Object.keys(state.values);
  const tensors = new Map<string, Tensor>();
  for (const [name, data] of Object.entries(state.tensors)) tensors.set(`state.${name}`, asTensor(data));
  tensors.set('state.values', asTensor(Float64Array.from(valueNames, (name) => state.values[name])));
  const metadata: Record<string, string> = {
    format: FORMAT,
    version: String(VERSION),
    method: state.method,
    hyperparameters: JSON.stringify(state.hyperparameters),
    input: JSON.stringify(state.input),
    numClasses: state.numClasses === null ? '' : String(state.numClasses),
    values: JSON.stringify(valueNames),
    layer: detector.layer ?? '',
    direction: 'higher-is-in-distribution',
    ncod: ncodVersion,
    fit_sha256: detector.fitDigest ?? '',
  };
  const calibration = detector.calibration;
  if (calibration) {
    const { tpr, threshold, n, rank } = calibration;
    metadata.calibration = JSON.stringify({ tpr, threshold, n, rank });
    tensors.set('calibration.scores', asTensor(calibration.scores));
  }
  metadata.sha256 = integrity(metadata, tensors);
  await writeSafetensors(path, tensors, metadata);
}

/** Reads and verifies a saved detector; ERR_FILE_FORMAT says why a file is refused. */
export async function readDetectorFile(path: string, options: DetectorOptions = {}): Promise<LoadedDetector> {
  const { tensors, metadata } = await readSafetensors(path);
  const bad = (expected: string, got: string): never => fail('ERR_FILE_FORMAT', `detector file ${path}`, expected, got);
  if (metadata.format !== FORMAT) bad(`a saved ncod detector (format ${FORMAT})`, metadata.format === undefined ? 'no format' : `format ${metadata.format}`);
  const version = Number(metadata.version);
  if (Number.isInteger(version) && version > VERSION) {
    bad(`format version ≤ ${VERSION} (this is ncod ${ncodVersion})`, `version ${version}, written by ncod ${metadata.ncod}: upgrade ncod to read it`);
  }
  if (version !== VERSION) bad(`format version ${VERSION}`, String(metadata.version));
  if (metadata.sha256 !== integrity(metadata, tensors)) bad(`contents matching the recorded SHA-256 ${metadata.sha256}`, 'contents that do not: the file is damaged');

  const json = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? '');
    } catch {
      return bad(`${key} as JSON`, String(metadata[key]));
    }
  };
  const method = metadata.method as Method;
  if (!METHODS.includes(method)) bad(`a method among ${METHODS.join(', ')}`, String(metadata.method));
  const input = json('input') as InputSpec;
  if (!input || (input.name !== 'features' && input.name !== 'logits') || !Number.isSafeInteger(input.dim) || input.dim < 1) {
    bad('input {name: features|logits, dim ≥ 1}', String(metadata.input));
  }
  const hyperparameters = json('hyperparameters') as Record<string, number | boolean | string>;
  const scalar = (v: unknown) => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string';
  if (typeof hyperparameters !== 'object' || hyperparameters === null || Array.isArray(hyperparameters) || !Object.values(hyperparameters).every(scalar)) {
    bad('hyperparameters as an object of numbers, booleans and strings', String(metadata.hyperparameters));
  }
  const numClasses = metadata.numClasses === '' ? null : Number(metadata.numClasses);
  if (numClasses !== null && !(Number.isSafeInteger(numClasses) && numClasses >= 1)) bad('numClasses, a positive integer or empty', String(metadata.numClasses));
  const valueNames = json('values') as string[];
  const valueTensor = tensors.get('state.values');
  if (!Array.isArray(valueNames) || !(valueTensor?.data instanceof Float64Array) || valueTensor.data.length !== valueNames.length) {
    bad('state.values, float64, one per name in metadata.values', String(metadata.values));
  }
  const valueData = valueTensor!.data as Float64Array;
  const values = Object.fromEntries(valueNames.map((name, i) => [name, valueData[i]]));
  const stateTensors: FittedState['tensors'] = {};
  for (const [name, t] of tensors) {
    if (!name.startsWith('state.') || name === 'state.values') continue;
    const data = t.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) return bad(`${name} as float32 or float64`, t.dtype);
    stateTensors[name.slice('state.'.length)] = data;
  }
  const state: FittedState = { method, hyperparameters, input, numClasses, values, tensors: stateTensors };

  let detector: Detector<never>;
  try {
    detector = await METHOD_SPECS[method].restore(state, options);
  } catch (error) {
    // A hyperparameter the constructor refuses is a bad file, not a bad argument of the caller.
    if (error instanceof NcodError && error.code !== 'ERR_FILE_FORMAT') bad('a consistent detector state', error.message);
    throw error;
  }
  const calibration = metadata.calibration === undefined ? undefined : calibrationFrom(json('calibration'), tensors.get('calibration.scores'), bad);
  const layer = metadata.layer ? metadata.layer : undefined;
  return detector.restoreCommon(metadata.fit_sha256 || null, calibration, layer) as unknown as LoadedDetector;
}

/** The stored calibration, recomputed from its scores and compared: a threshold that does not follow is refused. */
function calibrationFrom(recorded: unknown, scores: Tensor | undefined, bad: (expected: string, got: string) => never): Calibration {
  const r = recorded as Partial<Calibration> | null;
  if (!(scores?.data instanceof Float64Array)) bad('calibration.scores as float64', scores ? scores.dtype : 'none');
  if (typeof r?.tpr !== 'number') bad('calibration {tpr, threshold, n, rank}', JSON.stringify(recorded));
  let calibration: Calibration;
  try {
    calibration = conformalCalibration(scores.data as Float64Array, r.tpr);
  } catch (error) {
    return bad('a valid calibration', error instanceof Error ? error.message : String(error));
  }
  const same = calibration.n === r.n && calibration.rank === r.rank && Object.is(calibration.threshold, r.threshold);
  if (!same || calibration.scores.some((v, i) => !Object.is(v, (scores.data as Float64Array)[i]))) {
    bad('calibration scores ascending, with the threshold they imply', JSON.stringify(recorded));
  }
  return calibration;
}
