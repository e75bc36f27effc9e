// The fenced code blocks of a Markdown file, read at test time so the README examples cannot drift from
// what the package test runs.
export interface CodeBlock {
  /** The fence's info string ("js", "ts", "sh", ...), lower-cased; "" when none. */
  lang: string;
  code: string;
  /** 1-based line of the opening fence, for naming the test. */
  line: number;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`README: the code block opened at line ${start + 1} is never closed`);
    blocks.push({ lang: open[1].toLowerCase(), code: body.join('\n') + '\n', line: start + 1 });
  }
  return blocks;
}

/** The commands of a shell block: one per line, comments and blank lines dropped. */
export function shellCommands(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
