// The `ncod` command line. Each command lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';

import { NcodError } from '../errors.js';
import { version } from '../version.js';
import { registerEval } from './eval.js';
import { registerFeatures } from './features.js';
import { registerBenchPaper } from './bench-paper.js';
import { registerInfo } from './info.js';
import { registerMetrics } from './metrics.js';
import { registerScore } from './score.js';
import { registerTrain } from './train.js';

export function buildProgram(): Command {
  const program = new Command('ncod')
    .description('Neural Collapse metrics, OOD detection and NC-controlled training on a native core')
    .version(version)
    .showHelpAfterError()
    .addHelpText('after', '\nExample:\n  $ ncod info --json');
  registerInfo(program);
  registerMetrics(program);
  registerScore(program);
  registerEval(program);
  registerTrain(program);
  registerFeatures(program);
  registerBenchPaper(program);
  return program;
}

/** Runs the CLI; failures print "error CODE: message" and exit non-zero. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().exitOverride().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const code = error instanceof NcodError ? error.code : 'ERR_INTERNAL';
    process.stderr.write(`error ${code}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
