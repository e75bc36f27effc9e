// How the CLI reports what goes wrong before and around a command's work: usage errors in the useful order, and
// errors from outside ncod's own checks (huge files, the file system) with a documented code, not ERR_INTERNAL.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { MAX_ARRAY_LENGTH } from '../../lib/data/tensor.js';
import { expectCliError, matrix, runCli, saveNpy, tmpDir } from './helpers.js';

describe('a mistyped required option', () => {
  it('is reported as unknown, with the suggestion, not as a missing --features', () => {
    const r = runCli(['metrics', '--featurs', 'x.npy', '--labels', 'y.npy']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown option '--featurs'\n\(Did you mean --features\?\)/);
    expect(r.stderr).not.toContain('required option');
    expect(r.stdout).toBe('');
  });

  it('in any command, before its required options are checked', () => {
    const r = runCli(['score', '--metod', 'energy']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown option '--metod'\n\(Did you mean --method\?\)/);
  });

  it('a required option that is really missing is still reported, naming it', () => {
    const r = runCli(['eval', '--id-scores', 'a.npy']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: required option '--ood-scores <file>' not specified/);
  });
});

describe('errors from outside the commands\' own checks', () => {
  const dir = tmpDir();

  // From Node 22 the limit is 2^53 − 1 and no sparse file can pass it.
  it.skipIf(MAX_ARRAY_LENGTH > 2 ** 40)('an .npy with more elements than a typed array holds: ERR_TOO_LARGE, expected X, got Y', () => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${MAX_ARRAY_LENGTH + 1},), }`;
    const header = Buffer.alloc(128, 0x20);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    header.writeUInt16LE(118, 8);
    header.write(dict, 10, 'latin1');
    header[127] = 0x0a;
    const path = join(dir, 'huge.npy');
    writeFileSync(path, header);
    truncateSync(path, 128 + 4 * (MAX_ARRAY_LENGTH + 1)); // sparse: no disk used
    // Features stream (any size); scores for ncod eval are read whole (8 bytes a row).
    const stderr = expectCliError(['eval', '--id-scores', path, '--ood-scores', path], 'ERR_TOO_LARGE');
    expect(stderr).toContain(`expected at most ${MAX_ARRAY_LENGTH} elements in one array (the typed-array limit; the streaming commands have none), got ${MAX_ARRAY_LENGTH + 1}`);
  });

  it('an output path into a missing folder, or a file used as a folder, is refused before the work: ERR_IO', async () => {
    const logits = await saveNpy(dir, 'logits', matrix(Float32Array.from([1, 2, 3, 4, 5, 6]), 3));
    for (const out of [join(logits, 'scores.npy'), join(dir, 'no-such-folder', 'scores.npy')]) {
      const stderr = expectCliError(['score', '--method', 'energy', '--logits', logits, '--out', out], 'ERR_IO');
      expect(stderr).toMatch(/--out: expected a file in an existing folder, got .*\(no folder /);
    }
  });

  it('an output path the file system refuses while writing (a folder as the file): ERR_IO from the system call', async () => {
    const logits = await saveNpy(dir, 'logits2', matrix(Float32Array.from([1, 2, 3, 4, 5, 6]), 3));
    const stderr = expectCliError(['score', '--method', 'energy', '--logits', logits, '--out', dir], 'ERR_IO');
    expect(stderr).toMatch(/expected rename to succeed, got EISDIR/);
  });
});
