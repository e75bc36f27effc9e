// The list of error codes is one list: every code the native side can throw is declared in ErrorCodes, and anything
// else that reaches the top of the CLI is mapped to a declared code (toNcodError), ERR_INTERNAL only for the unknown.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { ErrorCodes, NcodError, toNcodError } from '../../lib/errors.js';

describe('ErrorCodes', () => {
  it('declares every code name native/core/error.cpp gives the JS side', () => {
    const source = readFileSync(new URL('../../native/core/error.cpp', import.meta.url), 'utf8');
    const nativeNames = [...source.matchAll(/"(ERR_[A-Z_]+)"/g)].map((m) => m[1]);
    expect(nativeNames.length).toBeGreaterThan(5);
    expect(nativeNames.filter((name) => !(ErrorCodes as readonly string[]).includes(name))).toEqual([]);
  });

  it('documents every code, and only those, in the README table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual([...ErrorCodes]);
  });

  it('declares the codes that arise only in TypeScript', () => {
    expect(ErrorCodes).toEqual(expect.arrayContaining(['ERR_TOO_LARGE', 'ERR_IO', 'ERR_INTERNAL', 'ERR_OUT_OF_MEMORY']));
  });
});

describe('toNcodError', () => {
  it('keeps an NcodError as it is', () => {
    const error = new NcodError('ERR_SHAPE', 'x: expected 2, got 3');
    expect(toNcodError(error)).toBe(error);
  });

  it("maps V8's failed allocation to ERR_OUT_OF_MEMORY", () => {
    let thrown: unknown;
    try {
      new ArrayBuffer(Number.MAX_SAFE_INTEGER); // 8 PiB: fails on any machine
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect(toNcodError(thrown)).toMatchObject({ code: 'ERR_OUT_OF_MEMORY', message: expect.stringContaining('got an allocation failure') });
  });

  it("maps the file system's refusals (errors with a syscall) to ERR_IO", () => {
    let thrown: unknown;
    try {
      readFileSync('/nonexistent-ncod-dir/x.npy');
    } catch (error) {
      thrown = error;
    }
    expect(toNcodError(thrown)).toMatchObject({ code: 'ERR_IO', message: expect.stringMatching(/^file system: expected open to succeed, got ENOENT/) });
  });

  it('maps anything else to ERR_INTERNAL, asking for a bug report, with the original as the cause', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'rows')");
    const mapped = toNcodError(bug);
    expect(mapped.code).toBe('ERR_INTERNAL');
    expect(mapped.message).toBe(`${bug.message} (a bug in ncod: please report it, with the command)`);
    expect(mapped.cause).toBe(bug);
    // An invalid length is a missed check in ncod, not a lack of memory.
    expect(toNcodError(new RangeError('Invalid typed array length: 4915200000')).code).toBe('ERR_INTERNAL');
    expect(toNcodError('a string').code).toBe('ERR_INTERNAL');
  });
});
