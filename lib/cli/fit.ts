// `ncod fit`: fits a detector from files, optionally calibrates its threshold on held-out ID data, and saves it
// (lib/ood/detector-file.ts). Options: commands/fit.ts.
import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import type { Method } from '../ood/method-names.js';
import type { HyperparameterFlags } from './commands/detector-options.js';
import { fitDetector, readMatrix } from './detector-fit.js';
import { printJson } from './output.js';
import { checkOutputFolder } from './output-path.js';

export interface FitCliOptions extends HyperparameterFlags {
  method: Method;
  features?: string;
  labels?: string;
  weights?: string;
  bias?: string;
  numClasses?: number;
  calibrate?: string;
  tpr?: number;
  check?: string;
  layer?: string;
  backend: BackendName;
  out: string;
  json?: boolean;
}

export async function runFit(o: FitCliOptions): Promise<void> {
  checkOutputFolder(o.out, '--out'); // before the work, not after it
  if (o.check !== undefined && o.calibrate === undefined) fail('ERR_INVALID_ARGUMENT', '--check', 'a calibration to check (--calibrate)', o.check);
  if (o.tpr !== undefined && o.calibrate === undefined) fail('ERR_INVALID_ARGUMENT', '--tpr', 'a calibration set (--calibrate)', String(o.tpr));
  const detector = await fitDetector(o.method, o, o, { features: '--features', labels: '--labels', logitWidth: '--num-classes (or --weights)' });
  const input = detector.input!;
  const heldOut = async (path: string, option: string) => {
    const x = await readMatrix(path, option, o.method);
    if (x.cols !== input.dim) fail('ERR_SHAPE', option, `${input.dim} columns (the detector's ${input.name} width)`, `${x.cols}`);
    return x.data;
  };
  const calibration = o.calibrate === undefined ? undefined : await detector.calibrate(await heldOut(o.calibrate, '--calibrate'), { tpr: o.tpr });
  const check = o.check === undefined ? undefined : await detector.checkCalibration(await heldOut(o.check, '--check'));
  await detector.save(o.out, { layer: o.layer });

  const summary = {
    method: detector.method,
    input,
    out: o.out,
    fitSha256: detector.fitDigest,
    calibration: calibration && { tpr: calibration.tpr, threshold: calibration.threshold, n: calibration.n, rank: calibration.rank },
    check,
  };
  if (o.json) return printJson(summary);
  console.log(`${detector.method}: fitted, scores ${input.name} of width ${input.dim} → ${o.out}`);
  if (calibration) console.log(`  threshold ${calibration.threshold.toPrecision(6)}: the ${calibration.rank}-th lowest of ${calibration.n} held-out ID scores (tpr ≥ ${calibration.tpr})`);
  if (check) console.log(`  achieved TPR on --check: ${check.tpr.toFixed(4)} (95 % bootstrap interval ${check.low.toFixed(4)} – ${check.high.toFixed(4)}, n = ${check.n})`);
}
