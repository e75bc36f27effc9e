// The `ncod` command line. Each command's options live in commands/<name>.ts, which load nothing but commander,
// and a command's work (and with it vega, the trainer, the native addon) is imported only when that command runs.
// When a command is named, only its definition is loaded too: `ncod info` builds one command's options, not all ten
// (about 12 ms).
// So `ncod --version`, `ncod <command> --help` and `ncod info` start in little more than Node's own start-up.
import { Command, CommanderError } from './commander.js';

import { toNcodError } from '../errors.js';
import { version } from '../version.js';
import { reportUnknownOptionsFirst } from './unknown-options-first.js';

type Register = (program: Command) => void;

/** Each command's definition, by the word typed after `ncod`, in the order `ncod --help` lists them. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  info: async () => (await import('./commands/info.js')).registerInfo,
  metrics: async () => (await import('./commands/metrics.js')).registerMetrics,
  merge: async () => (await import('./commands/merge.js')).registerMerge,
  score: async () => (await import('./commands/score.js')).registerScore,
  fit: async () => (await import('./commands/fit.js')).registerFit,
  eval: async () => (await import('./commands/eval.js')).registerEval,
  train: async () => (await import('./commands/train.js')).registerTrain,
  features: async () => (await import('./commands/features.js')).registerFeatures,
  bench: async () => (await import('./commands/bench-paper.js')).registerBenchPaper,
  serve: async () => (await import('./commands/serve.js')).registerServe,
};

/**
 * The program for `argv`: with only the named command; with none for `ncod --version`, which needs none; otherwise
 * with all of them (for --help, the command list, suggestions for a mistyped command).
 */
export async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command('ncod')
    .description('Neural Collapse metrics, OOD detection and NC-controlled training on a native core')
    .version(version)
    .showHelpAfterError()
    .addHelpText('after', '\nExample:\n  $ ncod info --json');
  const named = argv[2];
  const versionOnly = argv.length === 3 && (named === '--version' || named === '-V');
  const names = Object.hasOwn(COMMANDS, named) ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((name) => COMMANDS[name]()))) register(program);
  reportUnknownOptionsFirst(program);
  return program;
}

/** Runs the CLI; failures print "error CODE: message" (every CODE is one of ErrorCodes) and exit non-zero. */
export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).exitOverride().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const ncodError = toNcodError(error);
    process.stderr.write(`error ${ncodError.code}: ${ncodError.message}\n`);
    // A bug report needs to know where: the stack of what was thrown.
    if (ncodError.code === 'ERR_INTERNAL' && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
