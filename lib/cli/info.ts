// `ncod info`: the version, each backend with why it is (un)available, the BLAS and the SIMD level in use. Loads only
// the native addon (through backend.ts), nothing else: it is the command people run first.
import { backends, blasInfo, simdInfo } from '../backend.js';
import { version } from '../version.js';
import { printJson, table } from './output.js';

export function runInfo(options: { json?: boolean }): void {
  const report = { version, backends: backends(), blas: blasInfo(), simd: simdInfo() };
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
  if (blas.reducedTeams > 0) console.log(`      ${blas.reducedTeams} parallel regions ran with fewer threads: the system could not start more`);
  const simd = report.simd;
  console.log(`SIMD: ${simd.level}${simd.bf16 ? ' + bf16' : ''} (this CPU supports ${simd.supported.join(', ')}; cap with NCOD_SIMD)`);
}
