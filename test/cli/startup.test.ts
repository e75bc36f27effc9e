// `ncod --version`, `ncod <command> --help` and `ncod info` start fast because defining the commands loads no
// command's work: that is imported (dynamic import()) only when the command runs. The static import graph is
// checked here; the time itself is measured by `npm run bench -- --only cli-startup`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { runCli } from './helpers.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

/** Every module loaded, before anything runs, by importing `entry` (a path under lib/): files and packages. */
function staticImports(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(path.join(LIB, file), 'utf8');
    // `import type` is erased by TypeScript; `import(...)` is dynamic and does not match `from '...'`.
    for (const [, specifier] of source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'([^']+)';/gms)) {
      if (specifier.startsWith('.')) visit(path.normalize(path.join(path.dirname(file), specifier.replace(/\.js$/, '.ts'))));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

describe('start-up', () => {
  it('the graph walk finds what a command module loads (so the checks below can fail)', () => {
    const { files, packages } = staticImports('cli/metrics.ts');
    expect(files).toContain('metrics/nc.ts');
    expect(files).toContain('native.ts');
    expect(packages).toContain('cli-progress');
  });

  it('the program itself loads commander (through cli/commander.ts) and a few small modules', () => {
    const { files, packages } = staticImports('cli/main.ts');
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect(files).toEqual(['cli/commander.ts', 'cli/main.ts', 'cli/unknown-options-first.ts', 'errors.ts', 'version.ts']);
  });

  it("each command's definition loads its option parsers and no command work", () => {
    const definitions = readdirSync(path.join(LIB, 'cli/commands'));
    expect(definitions).toHaveLength(13); // eleven command definitions (serve, and bench ood under bench), the detector flags and the --backend option they share
    for (const definition of definitions) {
      const { files, packages } = staticImports(`cli/commands/${definition}`);
      expect(packages.filter((p) => !p.startsWith('node:')), definition).toEqual([]);
      // Other definitions (shared detector flags, `bench ood` under `bench`), the method names and formats-help.ts
      // (the shared sentence about accepted files) and the backend names: constants and options, no work.
      const allowed = ['backend-names.ts', 'cli/commander.ts', 'cli/formats-help.ts', 'cli/parse.ts', 'errors.ts', 'ood/method-names.ts'];
      expect(files.filter((f) => !allowed.includes(f) && !f.startsWith('cli/commands/')), definition).toEqual([]);
    }
  });

  it('ncod info loads the native addon and nothing heavy (no data readers, trainer or plotting)', () => {
    const { files, packages } = staticImports('cli/info.ts');
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect(files).toEqual(['backend-names.ts', 'backend.ts', 'cli/info.ts', 'cli/output.ts', 'errors.ts', 'native.ts', 'version.ts']);
  });
});

describe('every --help still shows its example', () => {
  const commands: [string[], RegExp][] = [
    [[], /Example:\n\s+\$ ncod info --json/],
    [['info'], /Example:\n\s+\$ ncod info --json/],
    [['metrics'], /Examples:\n\s+\$ ncod metrics --features/],
    [['merge'], /Examples:\n\s+\$ ncod merge part0.ncstate/],
    [['score'], /Examples:\n\s+\$ ncod score --detector/],
    [['fit'], /Examples:\n\s+\$ ncod fit --method/],
    [['eval'], /Example:\n\s+\$ ncod eval --id-scores/],
    [['train'], /Examples:\n\s+\$ ncod train --dataset/],
    [['features'], /Examples:\n\s+\$ ncod features --model/],
    [['bench', 'paper'], /Examples:\n\s+\$ ncod bench paper/],
    [['serve'], /Examples:\n\s+\$ ncod serve --detector/],
  ];
  for (const [command, example] of commands) {
    it(`ncod ${[...command, '--help'].join(' ')}`, () => {
      const r = runCli([...command, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(example);
    });
  }
});

describe('loading only the named command changes nothing visible', () => {
  it('ncod --help lists every command; ncod --version prints the version', () => {
    const help = runCli(['--help']).stdout;
    for (const name of ['info', 'metrics', 'merge', 'score', 'eval', 'train', 'features', 'bench', 'serve']) expect(help).toMatch(new RegExp(`^  ${name} `, 'm'));
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
    expect(runCli(['--version'])).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('a mistyped command still gets a suggestion', () => {
    const r = runCli(['inf']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown command 'inf'\n\(Did you mean info\?\)/);
  });
});
