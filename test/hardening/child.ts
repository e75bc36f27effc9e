// Runs a script in a child Node process, so a crash (a signal such as SIGSEGV or SIGABRT) or a hang fails one test
// instead of killing the vitest worker. The script is TypeScript (run through tsx) and may import `NCOD` (lib/index.ts)
// and `NATIVE` (lib/native.ts) by those absolute specifiers, which are substituted before it runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** Shell commands run before the child (e.g. `ulimit -v 4194304`), for out-of-memory paths. */
  shellPrefix?: string;
  /** Plain CommonJS instead of TypeScript (no tsx, whose WebAssembly start-up needs a large address space); `'ADDON'`
   * is the built addon's path. */
  commonjs?: boolean;
}

export function runChild(script: string, options: ChildOptions = {}): Promise<ChildResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ncod-hardening-'));
  const file = path.join(dir, options.commonjs ? 'child.cjs' : 'child.mts');
  const source = script
    .replaceAll("'ADDON'", JSON.stringify(path.join(root, 'build/Release/ncod.node')))
    .replaceAll("'NCOD'", JSON.stringify(path.join(root, 'lib/index.ts')))
    .replaceAll("'NATIVE'", JSON.stringify(path.join(root, 'lib/native.ts')));
  writeFileSync(file, source);
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.commonjs ? [] : ['--import', 'tsx']), file];
  const command = options.shellPrefix
    ? ['/bin/sh', ['-c', `${options.shellPrefix} && exec "$0" "$@"`, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command[1] as string[], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

/** A readable summary for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `code ${r.code}, signal ${r.signal}, timedOut ${r.timedOut}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}

/** The last line the child printed with `console.log(JSON.stringify(...))`, parsed. */
export function lastJson<T = unknown>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}
