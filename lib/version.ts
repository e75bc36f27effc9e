import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The package version (from package.json, one folder above lib/ and dist/). */
export const version: string = (require('../package.json') as { version: string }).version;
