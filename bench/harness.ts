// Shared benchmark plumbing: timing, the result row format, and writing bench/results/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BenchRow {
  suite: string;
  case: string;
  /** What ncod achieved, in `unit`. */
  value: number;
  unit: string;
  /** The reference measured in the same run, in the same unit. */
  reference: number;
  referenceName: string;
  /** value / reference for throughputs (higher is better), reference / value for times. */
  ratio: number;
  goal?: string;
  met?: boolean;
}

/** Median wall time in seconds of `repeats` runs after one warm-up run. */
export async function timeIt(fn: () => unknown | Promise<unknown>, repeats = 3): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

function markdownTable(rows: BenchRow[]): string {
  const head = '| suite | case | ncod | reference | ratio | goal | met |\n|---|---|---|---|---|---|---|';
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  const lines = rows.map(
    (r) =>
      `| ${r.suite} | ${r.case} | ${fmt(r.value)} ${r.unit} | ${fmt(r.reference)} ${r.unit} (${r.referenceName}) | ` +
      `${r.ratio.toFixed(2)} | ${r.goal ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
  );
  return [head, ...lines].join('\n');
}

/** Writes bench/results/<date>-<label>.{json,md} and returns the markdown. */
export function writeResults(label: string, rows: BenchRow[], context: Record<string, unknown>): string {
  const date = new Date().toISOString().slice(0, 10);
  const dir = path.resolve('bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${date}-${label}`);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  fs.writeFileSync(`${base}.json`, JSON.stringify({ date, command, ...context, rows }, null, 2) + '\n');
  const md =
    `# ncod benchmarks, ${date}\n\n- device: ${context.device}\n- command: \`${command}\`\n` +
    Object.entries(context)
      .filter(([k]) => k !== 'device')
      .map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('\n') +
    `\n\n${markdownTable(rows)}\n`;
  fs.writeFileSync(`${base}.md`, md);
  return md;
}
