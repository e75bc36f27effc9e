/**
 * One dataset array over several files: a glob (`feats/part-*.npy`, `shard-{0..7}.safetensors:layer4` — quote it
 * so the shell leaves it alone) or a comma-separated list (`a.npy,b.npy`). Shards are taken in natural order
 * (part-2 before part-10) and must agree on everything but their row counts.
 */
import { glob } from 'tinyglobby';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fail } from '../../errors.js';
import { parseArraySpec, type ArraySpec } from '../read-array.js';

const GLOB_CHARS = /[*?[\]{}]/;

/** The shard specs `spec` names, in order; a plain spec is its own single shard. */
export async function expandShards(spec: string, what: string): Promise<ArraySpec[]> {
  if (typeof spec !== 'string' || spec === '') fail('ERR_INVALID_ARGUMENT', what, 'a file name', JSON.stringify(spec));
  // An existing file whose name holds ',' or glob characters is that file.
  if (existsSync(spec)) return [parseArraySpec(spec, what)];
  const parts = spec.split(',').filter((part) => part !== '');
  if (parts.length === 0) fail('ERR_INVALID_ARGUMENT', what, 'a file name', JSON.stringify(spec));
  const shards: ArraySpec[] = [];
  for (const part of parts) {
    const parsed = parseArraySpec(part, what);
    if (!GLOB_CHARS.test(parsed.path) || existsSync(parsed.path)) {
      shards.push(parsed);
      continue;
    }
    // Matches are named as the pattern is: absolute for an absolute pattern, else relative to the working folder.
    const matches = await glob(parsed.path, { onlyFiles: true, expandDirectories: false, dot: false, absolute: isAbsolute(parsed.path) });
    if (matches.length === 0) fail('ERR_INVALID_ARGUMENT', what, `files matching ${parsed.path}`, 'none');
    matches.sort(naturalOrder);
    for (const path of matches) shards.push({ ...parsed, path });
  }
  return shards;
}

const collator = new Intl.Collator('en', { numeric: true });

/** Natural order: runs of digits compare as numbers, so shard-2 comes before shard-10. */
export function naturalOrder(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
