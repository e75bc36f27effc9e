// The SIMD level is chosen once at load: the best the CPU supports, capped by NCOD_SIMD. Each case runs in a child
// process, since the level (and OpenBLAS's kernel set) is fixed when the addon loads.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { simdInfo } from '../../lib/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** simdInfo() and the BLAS core in a fresh process with NCOD_SIMD (and OPENBLAS_CORETYPE) as given. */
function childInfo(env: Record<string, string | undefined>) {
  const script =
    "import { simdInfo, blasInfo } from './lib/index.ts';" +
    'try { console.log(JSON.stringify({ simd: simdInfo(), core: blasInfo().core })); }' +
    'catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }';
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', env: childEnv });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('SIMD dispatch', () => {
  const here = simdInfo();

  it('reports the level in use among the levels the CPU supports, portable first', () => {
    expect(here.supported[0]).toBe('portable');
    expect(here.supported).toContain(here.level);
    if (!process.env.NCOD_SIMD) expect(here.level).toBe(here.supported[here.supported.length - 1]);
    if (here.bf16) expect(here.level).toBe('avx512');
  });

  it('NCOD_SIMD caps the level at every level the CPU supports, and OpenBLAS with it', () => {
    const all = childInfo({ NCOD_SIMD: undefined, OPENBLAS_CORETYPE: undefined }).simd.supported as string[];
    for (const level of all) {
      const got = childInfo({ NCOD_SIMD: level, OPENBLAS_CORETYPE: undefined });
      expect(got.simd.level).toBe(level);
      if (level !== 'avx512') expect(got.simd.bf16).toBe(false);
      if (level === 'portable') expect(got.core).toBe('Prescott');
      if (level === 'avx2') expect(got.core).toBe('Haswell');
    }
  });

  it('a cap above what the CPU supports runs the best supported level', () => {
    const got = childInfo({ NCOD_SIMD: 'avx512', OPENBLAS_CORETYPE: undefined });
    expect(got.simd.level).toBe(got.simd.supported[got.simd.supported.length - 1]);
  });

  it('OPENBLAS_CORETYPE set by the user wins over the cap', () => {
    expect(childInfo({ NCOD_SIMD: 'portable', OPENBLAS_CORETYPE: 'Nehalem' }).core).toBe('Nehalem');
  });

  it('an unknown NCOD_SIMD value refuses to load with ERR_INVALID_ARGUMENT naming the levels', () => {
    const got = childInfo({ NCOD_SIMD: 'sse9' });
    expect(got.code).toBe('ERR_INVALID_ARGUMENT');
    expect(got.message).toBe("NCOD_SIMD: expected one of portable, avx2, avx512 (or unset), got 'sse9'");
  });
});
