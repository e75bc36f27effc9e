// The package as users get it: packed with its prebuild, installed into an empty project by an npm with no
// compiler, CMake or make on PATH, then every README example run against it (JavaScript blocks run and
// type-checked with `tsc --strict` against the published .d.ts, `npx ncod` lines run or --help-checked).
// Takes 1½–3 minutes, most of it the prebuild's compile (see scratch-package.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { codeBlocks, shellCommands } from './readme-blocks.js';
import { exportedSymbols, foreignUndefinedSymbols, GLIBC_LIBRARIES, lddLibraries, needsStaticTls } from './elf.js';
import { buildAndInstall, removeScratch, run, userEnv, type ScratchPackage } from './scratch-package.js';
import * as readmeInputs from './readme-inputs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
const { version } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
const prebuildFile = 'prebuilds/linux-x64/ncod.glibc.node';

const jsBlocks = codeBlocks(readme).filter((b) => b.lang === 'js' || b.lang === 'ts');
// Only `npx ncod` lines run against the installed package; the set-up lines are for a clone of the repository.
const cliLines = codeBlocks(readme)
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => shellCommands(b.code))
  .filter((line) => line.startsWith('npx ncod '));
// Lines whose inputs the test can make (readme-cli-files.ts) or that need none run verbatim; the others
// (datasets, minutes of training) only check that their command and every flag exist.
const runnable = new Set(['', 'info', 'metrics', 'eval']);
/** The (sub)command words of an `npx ncod ...` line: those before its first flag ([] for `npx ncod --version`). */
function commandOf(line: string): string[] {
  const words = line.split(/\s+/).slice(2);
  const firstFlag = words.findIndex((w) => w.startsWith('-'));
  return firstFlag === -1 ? words : words.slice(0, firstFlag);
}

const hasApt = fs.existsSync('/usr/bin/apt-get');
const supported = process.platform === 'linux' && process.arch === 'x64' && hasApt;

describe.skipIf(!supported)(`the packed package, installed without a compiler${supported ? '' : ' (skipped: needs linux-x64 with apt-get for the prebuild)'}`, () => {
  let scratch: ScratchPackage;
  const inProject = (file: string) => path.join(scratch.project, file);
  const node = (args: string[], cwd = scratch.project) => run(process.execPath, args, cwd, userEnv(scratch.toolFreePath));
  const sh = (line: string, cwd: string) => run('sh', ['-c', line], cwd, userEnv(scratch.toolFreePath));
  const transpile = (file: string) =>
    ts.transpileModule(fs.readFileSync(path.join(here, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;

  beforeAll(() => {
    scratch = buildAndInstall(repo);
    console.log(`package test: seconds per step ${JSON.stringify(scratch.seconds)}`);
    // The README blocks' stand-in inputs, as .ts (type check) and .js (run), and one file per block.
    for (const file of ['readme-inputs.ts', 'readme-cli-files.ts']) {
      fs.copyFileSync(path.join(here, file), inProject(file));
      fs.writeFileSync(inProject(file.replace(/\.ts$/, '.js')), transpile(file));
    }
    const prelude = `import { ${Object.keys(readmeInputs).join(', ')} } from './readme-inputs.js';\n`;
    for (const block of jsBlocks) {
      for (const ext of ['js', 'ts']) fs.writeFileSync(inProject(`readme-line-${block.line}.${ext}`), prelude + block.code);
    }
  }, 20 * 60_000);
  afterAll(() => removeScratch(scratch));

  it('packs the prebuild, LICENSE, README and types, and no local build', () => {
    const files = scratch.packedFiles;
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'binding.d.ts', prebuildFile]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('build/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([prebuildFile]);
    expect(fs.readFileSync(path.join(scratch.installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the ncod authors/);
  });

  it('npm install uses the prebuild with no compiler, CMake or make on PATH', () => {
    const tools = sh('command -v cmake || command -v c++ || command -v g++ || command -v gcc || command -v cc || command -v make', scratch.project);
    expect(tools.stdout.trim(), 'a build tool is reachable on the tool-free PATH').toBe('');
    expect(scratch.installLog).toContain(`ncod: using the native addon ${prebuildFile}`);
    expect(fs.existsSync(path.join(scratch.installed, 'build'))).toBe(false);
  });

  it('the prebuild needs nothing beyond glibc', () => {
    const addon = path.join(scratch.installed, prebuildFile);
    const libraries = lddLibraries(addon);
    expect(libraries).toContain('libc.so.6');
    expect(libraries.filter((name) => !GLIBC_LIBRARIES.has(name))).toEqual([]);
    expect(foreignUndefinedSymbols(addon)).toEqual([]);
    // Only the Node-API entry points: the static libstdc++ / libgomp / OpenBLAS inside stay private.
    expect(exportedSymbols(addon)).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
    expect(needsStaticTls(addon), 'STATIC_TLS: dlopen could fail with "cannot allocate memory in static TLS block"').toBe(false);
    console.log(`package test: prebuild ${(fs.statSync(addon).size / 2 ** 20).toFixed(1)} MiB, tarball ${(fs.statSync(scratch.tarball).size / 2 ** 20).toFixed(1)} MiB`);
  });

  it('the README shows `npx ncod --version` and `npx ncod info --json`', () => {
    expect(cliLines).toContain('npx ncod --version');
    expect(cliLines).toContain('npx ncod info --json');
  });

  it.each(cliLines)('README: %s', (line) => {
    const command = commandOf(line);
    const cwd = inProject(`cli-${command.join('-') || 'ncod'}`);
    fs.mkdirSync(cwd, { recursive: true });
    if (!runnable.has(command[0] ?? '')) {
      const help = sh(`npx ncod ${command.join(' ')} --help`, cwd);
      expect(help.status, help.stderr).toBe(0);
      for (const flag of line.match(/(?<=\s)--[a-z][a-z-]*/g) ?? []) expect(help.stdout, `${flag} in --help`).toContain(flag);
      return;
    }
    if (command[0] === 'metrics' || command[0] === 'eval') {
      const write = `import { writeNpy } from 'ncod'; import { cliFiles } from '../readme-cli-files.js';
        for (const [name, tensor] of Object.entries(cliFiles[${JSON.stringify(command[0])}])) await writeNpy(name, tensor);`;
      const written = node(['--input-type=module', '-e', write], cwd);
      expect(written.status, written.stderr).toBe(0);
    }
    const result = sh(line, cwd);
    expect(result.status, result.stderr).toBe(0);
    if (line === 'npx ncod --version') expect(result.stdout.trim()).toBe(version);
    if (!line.includes('--json')) return;
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    if (command[0] === 'info') {
      expect(json.version).toBe(version);
      const backends = json.backends as { name: string; available: boolean; reason: string | null }[];
      expect(backends.find((b) => b.name === 'cpu')?.available).toBe(true);
      const blas = json.blas as { library: string; core: string };
      expect(blas.library).toMatch(/^OpenBLAS .*DYNAMIC_ARCH/);
      expect(blas.core).toMatch(/\w/);
      console.log(`package test: ncod info: ${blas.library}; core ${blas.core}`);
    } else {
      expect(Object.keys(json).length).toBeGreaterThan(0);
    }
  });

  it.each(jsBlocks.map((b) => b.line))('README code block at line %i runs against the installed package', (line) => {
    const result = node([`readme-line-${line}.js`]);
    expect(result.status, `${result.stderr}\n${result.stdout}`.slice(-4000)).toBe(0);
  });

  it('README code blocks type-check with tsc --strict against the published .d.ts', () => {
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [path.join(repo, 'node_modules', '@types')],
        skipLibCheck: false,
      },
      files: jsBlocks.map((b) => `readme-line-${b.line}.ts`),
    };
    fs.writeFileSync(inProject('tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = node([path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    expect(tsconfig.files.length).toBe(jsBlocks.length);
  });

  it("require('ncod') works from CommonJS (require of ESM, Node >= 20.19)", () => {
    const cjs = `const ncod = require('ncod');
      const report = ncod.evaluateOOD([2, 3, 4], [0, 1]);
      if (report.auroc !== 1) throw new Error('auroc ' + report.auroc);
      console.log(typeof ncod.readNpy, typeof ncod.detectors.vim);`;
    fs.writeFileSync(inProject('require-check.cjs'), cjs);
    const result = node(['require-check.cjs']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('function function');
  });
});
