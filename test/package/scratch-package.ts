// The package as a user gets it: a copy of the sources gets a prebuild (`npm run prebuild`) and is packed
// (`npm pack`), then an empty project installs the tarball with no compiler, CMake or make on its PATH.
// Everything lives in one temp folder, so the working tree (its build/, prebuilds/, dist/) is never touched and
// nothing stale from it can reach the tarball.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ScratchPackage {
  dir: string;
  tarball: string;
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  packedFiles: string[];
  /** The user's project: `npm init -y`, "type": "module", the tarball installed. */
  project: string;
  /** The installed package (project/node_modules/ncod). */
  installed: string;
  /** A PATH with only node, npm, npx and sh: no compiler, CMake or make. */
  toolFreePath: string;
  installLog: string;
  /** Seconds per step, for the test log. */
  seconds: Record<string, number>;
}

/** The environment of a user's shell: none of the npm_* variables of the `npm test` that runs this test. */
export function userEnv(pathValue: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS') env[key] = value;
  }
  env.PATH = pathValue;
  return env;
}

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
}

/** Runs a step that must succeed. */
function mustRun(what: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const result = run(command, args, cwd, env);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    throw new Error(`${what} failed (exit ${result.status}, ${result.error?.message ?? 'no spawn error'}):\n${output.slice(-6000)}`);
  }
  return result;
}

function findOnPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not on PATH`);
}

/** A bin folder holding only what a user needs to install and run an npm package. */
function toolFreeBin(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  for (const name of ['npm', 'npx', 'sh']) fs.symlinkSync(findOnPath(name), path.join(bin, name));
  return bin;
}

/** The sources a prebuild and `npm pack` need: package.json's "files" (less what they generate) and the TypeScript. */
function copySources(repo: string, dest: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { files: string[] };
  const generated = new Set(['dist/', 'prebuilds/']);
  const entries = [
    ...pkg.files.filter((entry) => !generated.has(entry)),
    'lib',
    'package.json',
    'README.md',
    'LICENSE',
    'tsconfig.json',
    'tsconfig.build.json',
  ];
  for (const entry of entries) fs.cpSync(path.join(repo, entry), path.join(dest, entry), { recursive: true });
  fs.symlinkSync(fs.realpathSync(path.join(repo, 'node_modules')), path.join(dest, 'node_modules'));
}

export function buildAndInstall(repo: string): ScratchPackage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncod-package-'));
  try {
    return buildAndInstallIn(dir, repo);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function buildAndInstallIn(dir: string, repo: string): ScratchPackage {
  const seconds: Record<string, number> = {};
  const timed = <T>(step: string, fn: () => T): T => {
    const start = performance.now();
    const value = fn();
    seconds[step] = Math.round((performance.now() - start) / 100) / 10;
    return value;
  };
  const src = path.join(dir, 'src');
  const fullEnv = userEnv(process.env.PATH ?? '');
  timed('copy', () => copySources(repo, src));
  timed('prebuild', () => mustRun('npm run prebuild', 'npm', ['run', 'prebuild'], src, fullEnv));
  const packed = timed('pack', () => mustRun('npm pack', 'npm', ['pack', '--json', '--pack-destination', dir], src, fullEnv));
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];

  const bin = toolFreeBin(dir);
  const env = userEnv(bin);
  const project = path.join(dir, 'project');
  fs.mkdirSync(project);
  mustRun('npm init', 'npm', ['init', '-y'], project, env);
  mustRun('npm pkg set', 'npm', ['pkg', 'set', 'type=module'], project, env);
  const tarball = path.join(dir, info.filename);
  const installArgs = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tarball];
  const install = timed('install', () => mustRun('npm install (no compiler on PATH)', 'npm', installArgs, project, env));
  return {
    dir,
    tarball,
    packedFiles: info.files.map((f) => f.path),
    project,
    installed: path.join(project, 'node_modules', 'ncod'),
    toolFreePath: bin,
    installLog: install.stdout + install.stderr,
    seconds,
  };
}

export function removeScratch(scratch: ScratchPackage | undefined): void {
  if (scratch) fs.rmSync(scratch.dir, { recursive: true, force: true });
}
