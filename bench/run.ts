// npm run bench [-- --quick] [-- --backend cpu|cuda] : runs every suite and writes bench/results/.
import { parseArgs } from 'node:util';

import { backends, blasInfo, version } from '../lib/index.js';
import { machineDescription, writeResults, type BenchRow } from './harness.js';
import { benchClassStats } from './suites/class-stats.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
    label: { type: 'string' },
  },
});
const backend = values.backend === 'cuda' ? 'cuda' : 'cpu';
const cuda = backends().find((b) => b.name === 'cuda');
const device = backend === 'cuda' ? `${cuda?.device ?? 'CUDA'}; host ${machineDescription()}` : machineDescription();

const rows: BenchRow[] = [];
for (const suite of [benchClassStats]) {
  const got = await suite(backend, values.quick ?? false);
  for (const row of got) console.error(`${row.suite}: ${row.case}: ${row.value.toPrecision(4)} ${row.unit} (ratio ${row.ratio.toFixed(2)})`);
  rows.push(...got);
}
const blas = blasInfo();
const md = writeResults(values.label ?? `${backend}${values.quick ? '-quick' : ''}`, rows, {
  device,
  ncod: version,
  node: process.version,
  blas: `${blas.library}, ${blas.threading}, ${blas.blasThreads} threads`,
});
console.log(md);
