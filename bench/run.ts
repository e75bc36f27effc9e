// npm run bench [-- --quick] [-- --backend cpu|cuda] [-- --only classStats,detectors,knn-chunks,nc,eval,train,simd,cli-startup,bench-ood,serve,stream,stream-check] : runs the suites and
// writes bench/results/. cli-startup and stream run the compiled CLI, so they need `npm run build:ts` first.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { backends, blasInfo, version } from '../lib/index.js';
import { runEnvironment } from '../lib/run-environment.js';
import { machineDescription, writeResults, type BenchRow } from './harness.js';
import { benchBenchOod } from './suites/bench-ood.js';
import { benchClassStats } from './suites/class-stats.js';
import { benchCliStartup } from './suites/cli-startup.js';
import { benchDetectors } from './suites/detectors.js';
import { benchKnnChunks } from './suites/knn-chunks.js';
import { benchNcMetrics } from './suites/nc-metrics.js';
import { benchEval } from './suites/ood-eval.js';
import { benchServe } from './suites/serve.js';
import { benchSimdLevels } from './suites/simd-levels.js';
import { benchStream } from './suites/stream.js';
import { benchStreamCheck } from './suites/stream-check.js';
import { benchTrain } from './suites/train.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
    label: { type: 'string' },
    only: { type: 'string' },
  },
});
const backend = values.backend === 'cuda' ? 'cuda' : 'cpu';
const cuda = backends().find((b) => b.name === 'cuda');
const device = backend === 'cuda' ? `${cuda?.device ?? 'CUDA'}; host ${machineDescription()}` : machineDescription();

const suites = {
  classStats: benchClassStats,
  detectors: benchDetectors,
  'knn-chunks': benchKnnChunks,
  nc: benchNcMetrics,
  eval: benchEval,
  train: benchTrain,
  simd: benchSimdLevels,
  'cli-startup': benchCliStartup,
  'bench-ood': benchBenchOod,
  serve: benchServe,
  stream: benchStream,
  'stream-check': benchStreamCheck,
};
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((name) => !(name in suites)) ?? [];
if (unknown.length) throw new Error(`--only: unknown suite ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})`);
const selected = only ?? Object.keys(suites);

const rows: BenchRow[] = [];
const loads: string[] = []; // other people's work on a small machine skews timings: say how busy it was
for (const name of selected) {
  const before = loadavg()[0];
  const got = await suites[name as keyof typeof suites](backend, values.quick ?? false);
  loads.push(`${name} ${before.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
  for (const row of got) console.error(`${row.suite}: ${row.case}: ${row.value.toPrecision(4)} ${row.unit} (ratio ${row.ratio.toFixed(2)})`);
  rows.push(...got);
}
const blas = blasInfo();
// A partial run gets its own file, so it does not overwrite a full run's results of the same day.
const defaultLabel = `${backend}${values.quick ? '-quick' : ''}${only ? `-${selected.join('-')}` : ''}`;
const md = writeResults(values.label ?? defaultLabel, rows, {
  device,
  ncod: version,
  node: process.version,
  blas: `core ${blas.core}; ${blas.library}, ${blas.threading}, ${blas.blasThreads} threads`,
  simd: runEnvironment().simd,
  'load average': `${loads.join(', ')} (1 min, at the start → end of each suite, ${cpus().length} cores)`,
});
console.log(md);
