// The one list of backend names in TypeScript (native/core/backends.cpp holds the one in C++, in the same order):
// types, CLI choices and checks all derive from it. No imports, so CLI option definitions read it without loading
// the addon loader.

/** Every backend, in the native registry's order (the first is the default). */
export const BACKENDS = ['cpu', 'cuda'] as const;
/** A backend the native calls take. */
export type Backend = (typeof BACKENDS)[number];
export const DEFAULT_BACKEND: Backend = BACKENDS[0];

/** What users may ask for: a backend, or 'auto' for the first available accelerator, else the default. */
export const BACKEND_NAMES = [...BACKENDS, 'auto'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The names for messages: "'cpu', 'cuda' or 'auto'". */
export const BACKEND_NAME_LIST = BACKEND_NAMES.map((name, i) => `${i === 0 ? '' : i === BACKEND_NAMES.length - 1 ? ' or ' : ', '}'${name}'`).join('');

export function isBackendName(value: unknown): value is BackendName {
  return (BACKEND_NAMES as readonly unknown[]).includes(value);
}
