// The --backend option every command that computes takes, its choices from the one list of backend names.
import { BACKEND_NAMES, DEFAULT_BACKEND } from '../../backend-names.js';
import { Option } from '../commander.js';

/** `--backend <name>`; without a default (`fallback: undefined`) the command picks one itself. */
export function backendOption(description = 'compute backend', fallback: string | undefined = DEFAULT_BACKEND): Option {
  const option = new Option('--backend <name>', description).choices(BACKEND_NAMES);
  return fallback === undefined ? option : option.default(fallback);
}
