// `ncod info` as commander parses it; the work is in ../info.ts, loaded only when the command runs.
import type { Command } from '../commander.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the version, the compute backends, the BLAS library and the SIMD level in use')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  $ ncod info --json')
    .action(async (options: { json?: boolean }) => (await import('../info.js')).runInfo(options));
}
