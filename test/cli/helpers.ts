// Helpers for CLI tests: run `ncod` from sources in a child process, and write its input files.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

import { writeNpy, type Tensor } from '../../lib/data/index.js';
import { findPython } from '../helpers/python.js';
import { tempDir } from '../helpers/temp-dir.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ncod ARGS` from sources; a non-zero exit is returned, not thrown. stderr is a pipe, so no progress bar. */
export function runCli(args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/run.ts', ...args], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `ncod ARGS --json`, expects success and clean stderr, and parses stdout. */
export function cliJson(args: string[]): unknown {
  const r = runCli([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/** Expects the CLI to fail with exit code 1 and "error CODE: ..." on stderr; returns stderr. */
export function expectCliError(args: string[], code: string): string {
  const r = runCli(args);
  expect(r.stderr).toMatch(new RegExp(`^error ${code}: `));
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  return r.stderr;
}

/** A fresh temp folder, removed after the test file. */
export function tmpDir(): string {
  return tempDir('ncod-cli-');
}

export function matrix(data: Float32Array | Float64Array, cols: number): Tensor {
  return { dtype: data instanceof Float32Array ? 'float32' : 'float64', shape: [data.length / cols, cols], data };
}

export function vector(data: Float32Array | Float64Array | Int32Array): Tensor {
  const dtype = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32';
  return { dtype, shape: [data.length], data };
}

/** Writes `dir/name.npy` and returns its path. */
export async function saveNpy(dir: string, name: string, tensor: Tensor): Promise<string> {
  const path = join(dir, `${name}.npy`);
  await writeNpy(path, tensor);
  return path;
}

/** Writes an .npz with numpy's own np.savez (arrays stored in the order given) and returns its path. */
export async function saveNpz(dir: string, name: string, arrays: Record<string, Tensor>): Promise<string> {
  const members: Record<string, string> = {};
  for (const [key, tensor] of Object.entries(arrays)) members[key] = await saveNpy(dir, `${name}.member.${key}`, tensor);
  const path = join(dir, `${name}.npz`);
  const script = 'import json, sys, numpy as np\nm = json.loads(sys.argv[2])\nnp.savez(sys.argv[1], **{k: np.load(v) for k, v in m.items()})';
  execFileSync(findPython(['numpy']), ['-c', script, path, JSON.stringify(members)]);
  return path;
}
