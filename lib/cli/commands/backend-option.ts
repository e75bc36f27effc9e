// The --backend option every command that computes takes, its choices from the one list of backend names.
import { BACKEND_NAMES, DEFAULT_BACKEND, type BackendName } from '../../backend-names.js';
import { Option } from '../commander.js';

/** `--backend <name>`; with `fallback: null` it has no default (the command picks one itself). */
export function backendOption(description = 'compute backend', fallback: BackendName | null = DEFAULT_BACKEND): Option {
  const option = new Option('--backend <name>', description).choices(BACKEND_NAMES);
  return fallback === null ? option : option.default(fallback);
}
