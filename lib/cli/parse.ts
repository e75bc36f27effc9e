// Option parsers shared by the command definitions. Kept apart from the commands' work (arrays.ts, datasets.ts) so
// that defining the commands loads nothing but commander: `ncod --version` and `--help` start fast.
import { InvalidArgumentError } from './commander.js';

import { describe, fail } from '../errors.js';

// Commander reports an InvalidArgumentError as a usage error naming the option.
export function parseInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

/** Collects a repeatable option's values; no default, so a required option still notices its absence. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** "512,512,512" → [512, 512, 512]: the hidden widths of the encoder. */
export function parseWidths(text: string): number[] {
  const widths = text.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  if (widths.length === 0 || widths.some((w) => !Number.isSafeInteger(w) || w < 1)) {
    fail('ERR_INVALID_ARGUMENT', '--layers', 'comma-separated positive widths like 512,512,512', describe(text));
  }
  return widths;
}

/** "0,1,2" → [0, 1, 2]: non-negative integers such as seeds. */
export function parseIntegerList(value: string): number[] {
  const items = value.split(',').map((v) => Number(v.trim()));
  if (items.length === 0 || items.some((v) => !Number.isInteger(v) || v < 0)) {
    fail('ERR_INVALID_ARGUMENT', 'list', 'comma-separated non-negative integers', describe(value));
  }
  return items;
}
