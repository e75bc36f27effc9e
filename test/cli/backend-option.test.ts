// Every command that computes takes --backend with the choices of the one list of backend names.
import { describe, expect, it } from 'vitest';

import { BACKEND_NAMES } from '../../lib/backend.js';
import { buildProgram } from '../../lib/cli/main.js';
import type { Command } from '../../lib/cli/commander.js';

function commands(program: Command): Command[] {
  return program.commands.flatMap((c) => [c, ...commands(c)]);
}

describe('--backend', () => {
  it('has the choices of BACKEND_NAMES wherever it appears, default cpu except for features', async () => {
    const program = await buildProgram(['node', 'ncod']);
    const found = new Map<string, { choices?: string[]; defaultValue?: unknown }>();
    for (const command of commands(program)) {
      const option = command.options.find((o) => o.long === '--backend');
      if (option) found.set(command.name(), { choices: option.argChoices, defaultValue: option.defaultValue });
    }
    expect([...found.keys()].sort()).toEqual(['paper', 'fit', 'features', 'merge', 'metrics', 'ood', 'score', 'train'].sort());
    for (const [name, option] of found) {
      expect(option.choices, name).toEqual([...BACKEND_NAMES]);
      expect(option.defaultValue, name).toBe(name === 'features' ? undefined : 'cpu');
    }
  });
});
