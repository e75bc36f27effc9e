// Whole-process start-up of the `ncod` command (bin/ncod.js, which runs the compiled dist/) against `node -e 0`,
// Node's own start-up, measured in the same run and interleaved run by run so that a busy machine slows both alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import type { BenchRow } from '../harness.js';

const GOAL_SECONDS = 0.15;

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
    rows.push({
      suite: 'cli-startup',
      case: `ncod ${command}, whole process, median of ${runs} (ratio: node's start-up / ncod's)`,
      value,
      unit: 's',
      reference: base,
      referenceName: 'node -e 0',
      ratio: base / value,
      goal: `≤ ${GOAL_SECONDS} s`,
      met: value <= GOAL_SECONDS,
    });
  }
  return rows;
}
