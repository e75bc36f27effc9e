// The server side of the serve benchmark, in its own process so the load generator does not share its event loop:
//   node --import tsx bench/serve-child.ts ncod '{"maxDelayMs":1}' name=file.ncod ...   (ncod serve's app)
//   node --import tsx bench/serve-child.ts bare                                         (fastify returning a constant)
// Prints {"url": ...} on one stdout line once listening; exits on SIGTERM.
import Fastify from 'fastify';

import { createServer, detectors, type ServableDetector } from '../lib/index.js';

const [mode, optionsJson, ...specs] = process.argv.slice(2);
let close: () => Promise<void>;
let url: string;
if (mode === 'bare') {
  // The HTTP stack alone: the same body read as a buffer (no parsing), a constant answer.
  const app = Fastify({ logger: false, bodyLimit: 64 * 2 ** 20 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/v2/models/:name/infer', async (_request, reply) => reply.type('application/json').send('{"ok":1}'));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  close = () => app.close();
} else {
  const models: Record<string, ServableDetector> = {};
  for (const spec of specs) {
    const [name, file] = spec.split('=');
    models[name] = await detectors.load(file);
  }
  const server = createServer({ models, ...JSON.parse(optionsJson ?? '{}') });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
  close = () => server.close({ settleMs: 0 });
}
process.stdout.write(JSON.stringify({ url }) + '\n');
process.once('SIGTERM', () => {
  void close().then(() => process.exit(0));
});
