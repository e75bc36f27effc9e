// Finds a Python interpreter that has the modules a test needs. Debian's python3-* packages live in
// /usr/bin/python3, which need not be the first python3 on PATH. No skipping: none found is a test failure.
import { spawnSync } from 'node:child_process';

const found = new Map<string, string>();

/** First of $NCOD_PYTHON, python3, /usr/bin/python3, python that imports every module in `modules`. */
export function findPython(modules: string[]): string {
  const key = modules.join(',');
  const cached = found.get(key);
  if (cached) return cached;
  const candidates = [process.env.NCOD_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter((c): c is string => !!c);
  for (const cmd of candidates) {
    if (spawnSync(cmd, ['-c', `import ${key}`], { stdio: 'ignore' }).status === 0) {
      found.set(key, cmd);
      return cmd;
    }
  }
  throw new Error(`no python with ${modules.join(' and ')} found (tried ${candidates.join(', ')})`);
}
