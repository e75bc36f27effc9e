// examples/kubernetes/ncod-serve.yaml parses, its probes point at the server's real health endpoints on the port it
// listens on, its args are flags `ncod serve` accepts, and the detector path is inside the mounted volume.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { Command } from '../../lib/cli/commander.js';
import { registerServe } from '../../lib/cli/commands/serve.js';
import { createServer } from '../../lib/serve/server.js';
import { fakeDetector } from './fake-detector.js';

const file = fileURLToPath(new URL('../../examples/kubernetes/ncod-serve.yaml', import.meta.url));
type Any = any;
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Any;
});
const deployment = docs.find((d) => d.kind === 'Deployment');
const service = docs.find((d) => d.kind === 'Service');
const container = deployment.spec.template.spec.containers[0];

describe('examples/kubernetes/ncod-serve.yaml', () => {
  it('is a Deployment and a Service that select the same pods', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service']);
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('its args are real ncod serve flags, parsed as the CLI parses them', () => {
    expect(container.command).toEqual(['ncod']);
    let parsed: Record<string, unknown> | undefined;
    const program = new Command('ncod').exitOverride();
    registerServe(program);
    // Replace the action: parse only, start nothing.
    program.commands[0].action((options: Record<string, unknown>) => {
      parsed = options;
    });
    program.parse(['node', 'ncod', ...container.args]);
    expect(parsed).toMatchObject({ host: '0.0.0.0', port: 8000, detector: ['det=/detectors/det.ncod'], bodyLimit: 64 * 2 ** 20, logLevel: 'info' });
    const mount = container.volumeMounts.find((m: Any) => m.name === 'detectors');
    expect((parsed!.detector as string[])[0].split('=')[1].startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(deployment.spec.template.spec.volumes.find((v: Any) => v.name === 'detectors').configMap.name).toBe('ncod-detectors');
  });

  it('probes and ports point at the real endpoints on the port the server listens on', async () => {
    const port = container.ports.find((p: Any) => p.name === 'http').containerPort;
    expect(port).toBe(8000);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    const server = createServer({ models: { det: fakeDetector() } });
    for (const path of [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path, '/metrics']) {
      expect((await server.app.inject(path)).statusCode).toBe(200);
    }
    server.drain();
    expect((await server.app.inject(container.readinessProbe.httpGet.path)).statusCode).toBe(503);
    expect((await server.app.inject(container.livenessProbe.httpGet.path)).statusCode).toBe(200);
    await server.close({ settleMs: 0 });
  });
});
