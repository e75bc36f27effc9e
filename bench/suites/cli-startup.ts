// Whole-process start-up of the `ncod` command (bin/ncod.js, which runs the compiled dist/) against `node -e 0`,
// Node's own start-up, measured in the same run and interleaved run by run so that a busy machine slows both alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import type { BenchRow } from '../harness.js';

// The goal: under 0.15 s for `ncod --version` and `ncod info`, on a machine where Node itself starts in 0.04 s.
// Node's own start-up varies several-fold with the machine and its load (and spawning from this large process adds
// to both), so the verdict is on the time ncod adds to Node's: at most 0.15 − 0.04 s.
const GOAL_EXTRA_SECONDS = 0.11;

/** Wall seconds of one run of `node ARGS`; a failed run would time nothing meaningful, so it throws. */
function runOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`cli-startup: node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function benchCliStartup(_backend: 'cpu' | 'cuda', quick: boolean): Promise<BenchRow[]> {
  const bin = path.resolve('bin', 'ncod.js');
  if (!existsSync(path.resolve('dist', 'cli', 'main.js'))) {
    throw new Error('cli-startup times the compiled CLI: run `npm run build:ts` first');
  }
  const runs = quick ? 5 : 15;
  const reference = ['-e', '0'];
  const rows: BenchRow[] = [];
  for (const command of ['--version', 'info']) {
    const ours: number[] = [];
    const node: number[] = [];
    runOnce([bin, command]); // warm-up: the file cache, not counted
    runOnce(reference);
    for (let k = 0; k < runs; k++) {
      ours.push(runOnce([bin, command]));
      node.push(runOnce(reference));
    }
    const [value, base] = [median(ours), median(node)];
    const extra = value - base;
    rows.push({
      suite: 'cli-startup',
      case: `ncod ${command}, whole process, median of ${runs}: ${(1000 * extra).toFixed(0)} ms more than Node's start-up (ratio: node's / ncod's)`,
      value,
      unit: 's',
      reference: base,
      referenceName: 'node -e 0',
      ratio: base / value,
      goal: `≤ node + ${GOAL_EXTRA_SECONDS} s`,
      met: extra <= GOAL_EXTRA_SECONDS,
    });
  }
  return rows;
}
