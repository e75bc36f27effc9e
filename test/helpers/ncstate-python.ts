// Runs Python snippets that import scripts/python/ncstate.py (NumPy only). Where no Python with NumPy is found the
// interop tests are skipped with the reason; in CI (CI set), where Debian's python3-numpy is installed, that is a
// failure instead, so the interop is always checked there.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { findPython } from './python.js';

export const NCSTATE_DIR = fileURLToPath(new URL('../../scripts/python', import.meta.url));
export const NCSTATE_SCRIPT = `${NCSTATE_DIR}/ncstate.py`;

function lookUp(): { python?: string; reason?: string } {
  try {
    return { python: findPython(['numpy']) };
  } catch (error) {
    if (process.env.CI) throw error;
    return { reason: `skipped: ${(error as Error).message}` };
  }
}

const found = lookUp();
/** The interpreter, or undefined (then `noPythonReason` says why). */
export const numpyPython = found.python;
export const noPythonReason = found.reason ?? '';

/** Runs `code` with ncstate importable and `args` as sys.argv[1:]; returns stdout, throws with stderr on failure. */
export function runNcstatePython(code: string, args: string[] = []): string {
  if (!numpyPython) throw new Error(noPythonReason);
  return execFileSync(numpyPython, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(NCSTATE_DIR)})\n${code}`, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Python that writes a state: features and labels .npy, rows added in the batches [from, to) given as JSON, OOD rows, the class count. */
export const WRITE_STATE_PY = `
import json, numpy as np
from ncstate import NcState
x, y, ood = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
state = NcState(x.shape[1], int(sys.argv[5]))
for a, b in json.loads(sys.argv[6]):
    state.add(x[a:b], y[a:b])
if len(ood):
    state.add_ood(ood)
state.save(sys.argv[4])
`;
