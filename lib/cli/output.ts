// Terminal output helpers shared by CLI commands: plain tables for people, JSON for machines.

/** Renders rows as a left-aligned text table with a header line. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, k) => Math.max(...cells.map((r) => (r[k] ?? '').length)));
  const line = (r: string[]) => r.map((c, k) => c.padEnd(widths[k])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
