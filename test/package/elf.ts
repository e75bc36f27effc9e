// What a shared object needs from the system, read with the usual binutils (ldd, nm, readelf).
import { execFileSync } from 'node:child_process';

/** glibc's own libraries: the only ones a prebuild may need, since every Linux with glibc has them. */
export const GLIBC_LIBRARIES = new Set([
  'linux-vdso.so.1',
  'libc.so.6',
  'libm.so.6',
  'libpthread.so.0',
  'libdl.so.2',
  'librt.so.1',
  'ld-linux-x86-64.so.2',
]);

/** The library names `ldd` lists (its "not found" entries included, as names). */
export function lddLibraries(file: string): string[] {
  return execFileSync('ldd', [file], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== '')
    .map((name) => name.replace(/^.*\//, ''));
}

function dynamicSymbols(file: string, which: '--defined-only' | '--undefined-only'): { kind: string; name: string }[] {
  return execFileSync('nm', ['-D', which, file], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ kind: m[1], name: m[2] }));
}

/**
 * Strong undefined symbols that neither glibc (versioned GLIBC_*) nor Node.js (Node-API) provides. Node loads
 * addons lazily bound, so such a symbol would not fail the load: it would crash the first call that needs it.
 */
export function foreignUndefinedSymbols(file: string): string[] {
  return dynamicSymbols(file, '--undefined-only')
    .filter((s) => s.kind === 'U' && !/@GLIBC_/.test(s.name) && !/^(napi|node_api)_/.test(s.name))
    .map((s) => s.name);
}

export function exportedSymbols(file: string): string[] {
  return dynamicSymbols(file, '--defined-only').map((s) => s.name).sort();
}

/** DF_STATIC_TLS: the whole TLS segment must fit glibc's small static-TLS surplus at dlopen. */
export function needsStaticTls(file: string): boolean {
  return /\(FLAGS\).*STATIC_TLS/.test(execFileSync('readelf', ['-d', file], { encoding: 'utf8' }));
}
