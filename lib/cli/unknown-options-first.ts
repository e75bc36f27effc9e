// Commander checks required options before unknown ones, so a mistyped required flag (`--featurs x.npy`) was
// reported as "required option '--features <file>' not specified" — and every argument after an unknown option
// is set aside unparsed, so correct flags after it were reported missing too. This moves the required-option
// check into a preAction hook, which commander runs after it has rejected unknown options: the typo is named
// first, with commander's "(Did you mean --features?)".
import type { Command, Option } from './commander.js';

/** Call once every command is defined; it takes over the check of options declared with requiredOption(). */
export function reportUnknownOptionsFirst(program: Command): void {
  const required = new Map<Command, Option[]>();
  const collect = (command: Command): void => {
    const options = command.options.filter((option) => option.mandatory);
    for (const option of options) option.mandatory = false; // commander's own, earlier check now passes
    if (options.length > 0) required.set(command, options);
    command.commands.forEach(collect);
  };
  collect(program);

  program.hook('preAction', (_program, action) => {
    for (const option of required.get(action) ?? []) {
      if (action.getOptionValue(option.attributeName()) === undefined) {
        // Commander's own message and code, so scripts and tests see no difference beyond the order.
        action.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
      }
    }
  });
}
