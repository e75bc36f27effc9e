// `ncod info`: the version, each backend with why it is (un)available, and the BLAS in use.
import type { Command } from 'commander';

import { backends, blasInfo, simdInfo } from '../backend.js';
import { version } from '../version.js';
import { printJson, table } from './output.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the version, the compute backends, the BLAS library and the SIMD level in use')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  $ ncod info --json')
    .action((options: { json?: boolean }) => {
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
      const simd = report.simd;
      console.log(`SIMD: ${simd.level}${simd.bf16 ? ' + bf16' : ''} (this CPU supports ${simd.supported.join(', ')}; cap with NCOD_SIMD)`);
    });
}
