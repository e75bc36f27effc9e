// `ncod info`: the version, each backend with why it is (un)available, and the BLAS in use. Loads only the native
// addon (through backend.ts), nothing else: it is the command people run first.
import { backends, blasInfo } from '../backend.js';
import { version } from '../version.js';
import { printJson, table } from './output.js';

export function runInfo(options: { json?: boolean }): void {
  const report = { version, backends: backends(), blas: blasInfo() };
  if (options.json) return printJson(report);
  console.log(`ncod ${report.version}\n`);
  console.log(
    table(
      ['backend', 'available', 'device / reason'],
      report.backends.map((b) => [b.name, b.available ? 'yes' : 'no', b.available ? (b.device ?? 'host CPU') : (b.reason ?? '')]),
    ),
  );
  const blas = report.blas;
  console.log(`\nBLAS: ${blas.library}`);
  console.log(`      core ${blas.core}, ${blas.threading}, ${blas.blasThreads} BLAS threads, ${blas.openmpThreads} OpenMP threads`);
}
