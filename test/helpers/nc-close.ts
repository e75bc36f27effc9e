// NC metrics compared key by key to a relative tolerance (nulls must match; nc4_ncc_agreement can be excluded:
// states cannot give it).
import { expect } from 'vitest';

import type { NcMetrics } from '../../lib/index.js';

export function expectMetricsClose(got: NcMetrics, want: NcMetrics, relative: number, { skipNc4 = false } = {}): void {
  for (const [key, value] of Object.entries(want) as [keyof NcMetrics, number | null][]) {
    if (skipNc4 && key === 'nc4_ncc_agreement') continue;
    if (value === null) expect(got[key], key).toBeNull();
    else expect(Math.abs((got[key] as number) - value), `${key}: ${got[key]} vs ${value}`).toBeLessThanOrEqual(relative * Math.abs(value));
  }
}
