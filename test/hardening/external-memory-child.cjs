// Creates and drops accumulators whose native state is large (test/hardening/external-memory.test.ts runs it in a
// child process). No explicit gc(): V8 must collect on its own, which it does only if the native bytes are reported
// to it (no state() either: its arrays would be counted by V8 and trigger collections themselves). Arguments: addon path, count, dim. Prints one JSON line: the RSS before and the peak RSS (bytes).
'use strict';
const [addonPath, countArg, dimArg] = process.argv.slice(2);
const b = require(addonPath);
const count = Number(countArg);
const dim = Number(dimArg);

async function main() {
  const before = process.memoryUsage.rss();
  let peak = before;
  for (let i = 0; i < count; i++) {
    new b.NcAccumulator({ dim, numClasses: 2, backend: 'cpu' }); // its d×d scatter is zero-filled, so resident, at construction
    // Node runs native finalisers from the event loop: yield to it, as any real program does between batches.
    await new Promise((resolve) => setImmediate(resolve));
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  process.stdout.write(JSON.stringify({ before, peak }) + '\n');
}
main();
