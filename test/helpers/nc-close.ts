// NC metrics compared key by key to a relative tolerance (nulls must match). States cannot give nc4_ncc_agreement
// (skipNc4), and some keys may need a looser tolerance, given with the reason at the call.
import { expect } from 'vitest';

import type { NcMetrics } from '../../lib/index.js';

export function expectMetricsClose(
  got: NcMetrics,
  want: NcMetrics,
  relative: number,
  { skipNc4 = false, looser = {} as Partial<Record<keyof NcMetrics, number>> } = {},
): void {
  for (const [key, value] of Object.entries(want) as [keyof NcMetrics, number | null][]) {
    if (skipNc4 && key === 'nc4_ncc_agreement') continue;
    const tolerance = looser[key] ?? relative;
    if (value === null) expect(got[key], key).toBeNull();
    else expect(Math.abs((got[key] as number) - value), `${key}: ${got[key]} vs ${value}`).toBeLessThanOrEqual(tolerance * Math.abs(value));
  }
}
