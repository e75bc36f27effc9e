// `ncod merge`: NC state files (shards from NcAccumulator.save or scripts/python/ncstate.py) merged into one state,
// whose metrics are printed like `ncod metrics` prints a layer's (options: commands/merge.ts).
import { resolve } from 'node:path';

import type { BackendName } from '../backend.js';
import { fail } from '../errors.js';
import { NcAccumulator } from '../metrics/nc-accumulator.js';
import { requireFile } from './arrays.js';
import { loadClassifier, metricsTable } from './metrics.js';
import { checkOutputFolder } from './output-path.js';
import { printJson } from './output.js';

export interface MergeCliOptions {
  weights?: string;
  bias?: string;
  weightedGlobalMean?: boolean;
  rankTolerance?: number;
  backend: BackendName;
  saveState?: string;
  json?: boolean;
}

export async function runMerge(files: string[], options: MergeCliOptions): Promise<void> {
  // Every check that needs no state first: a typo must not cost reading all the shards.
  if (options.bias && !options.weights) fail('ERR_INVALID_ARGUMENT', '--bias', '--weights to go with it', 'bias without weights');
  if (options.saveState !== undefined) checkOutputFolder(options.saveState, '--save-state');
  for (const file of files) requireFile(file, 'state file');
  // The same file named twice (a glob and an explicit name) would count its samples twice, silently.
  const seen = new Map<string, string>();
  for (const file of files) {
    const again = seen.get(resolve(file));
    if (again !== undefined) fail('ERR_INVALID_ARGUMENT', 'state files', 'each file once', `${file} (already given as ${again})`);
    seen.set(resolve(file), file);
  }

  const merged = await mergeFiles(files, options.backend);
  // Saved before the metrics: a merged state with a class still empty cannot be finalised, but can be merged further.
  if (options.saveState !== undefined) await merged.save(options.saveState);
  const classifier = options.weights ? await loadClassifier(options.weights, options.bias, merged.numClasses, merged.dim) : {};
  const metrics = await merged.finalize({
    ...classifier,
    weightedGlobalMean: options.weightedGlobalMean,
    rankTolerance: options.rankTolerance,
  });
  if (options.json) return printJson(metrics);
  console.log(metricsTable([{ layer: `${files.length} states`, ...metrics }], 'merged'));
}

/** One accumulator holding every file's state; files whose dim or class count differ from the first's are refused. */
async function mergeFiles(files: string[], backend: BackendName): Promise<NcAccumulator> {
  let merged: NcAccumulator | undefined;
  for (const file of files) {
    const state = await NcAccumulator.load(file, { backend });
    if (!merged) {
      merged = new NcAccumulator({ dim: state.dim, numClasses: state.numClasses, backend });
    } else if (state.dim !== merged.dim || state.numClasses !== merged.numClasses) {
      fail('ERR_SHAPE', `state file ${file}`, `dim ${merged.dim} and ${merged.numClasses} classes like ${files[0]}`, `dim ${state.dim} and ${state.numClasses} classes`);
    }
    await merged.mergeAsync(state);
  }
  return merged!;
}
