// Output paths are checked before the work starts: a typo in --out must not cost the whole computation.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { fail } from '../errors.js';

/** The folder `path` would be written into must exist and be a folder (ERR_IO otherwise). */
export function checkOutputFolder(path: string, option: string): void {
  const folder = dirname(resolve(path));
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // Missing: reported below.
  }
  if (!isFolder) fail('ERR_IO', option, `a file in an existing folder`, `${path} (no folder ${folder})`);
}
