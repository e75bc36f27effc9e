// Times the raw NcAccumulator calls that run on the JS thread (issue #15 item 8), at a dim where the d×d state is
// large. Usage: node scripts/measure-accumulator.cjs [addon path] [dim]. Prints one JSON line of milliseconds (the
// median of 5 runs). Calls an addon lacks (an older build) are reported as null.
'use strict';
const path = require('node:path');
const addon = require(process.argv[2] ?? path.join(__dirname, '../build/Release/ncod.node'));
const dim = Number(process.argv[3] ?? 4096);
const C = 10;
const rows = 64;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

// ms of the synchronous part of fn (what the JS thread is blocked for), median of 5.
function blocked(fn) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return +median(times).toFixed(2);
}

async function main() {
  const x = new Float32Array(rows * dim).map(() => Math.random());
  const y = Int32Array.from({ length: rows }, (_, i) => i % C);
  const a = new addon.NcAccumulator({ dim, numClasses: C, backend: 'cpu' });
  const b = new addon.NcAccumulator({ dim, numClasses: C, backend: 'cpu' });
  await a.add({ features: x, labels: y, rows });
  await b.add({ features: x, labels: y, rows });
  const pending = [];
  const out = {
    dim,
    addCall: blocked(() => pending.push(a.add({ features: x, labels: y, rows }))),
    merge: blocked(() => a.merge(b)),
    state: blocked(() => a.state()),
  };
  await Promise.all(pending);
  if (a.mergeAsync) {
    const calls = [];
    out.mergeAsyncCall = blocked(() => calls.push(a.mergeAsync(b)));
    out.stateWithoutScatter = blocked(() => a.state(false));
    out.stateAsyncCall = blocked(() => calls.push(a.stateAsync()));
    await Promise.all(calls);
  } else {
    Object.assign(out, { mergeAsyncCall: null, stateWithoutScatter: null, stateAsyncCall: null });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
main();
