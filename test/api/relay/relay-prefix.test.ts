/**
 * The relay's public base URL (`--ws-relay-origin`), with or without a path prefix: which paths open
 * which side, what the CLI accepts, and that a server given a prefix hands out URLs under it that work
 * both with the prefix and without it (a load balancer that strips it).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { relaySideOf } from '../../../src/api/relay/relay-prefix.js';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { serveOptions } from '../../../src/cli/api-serve.js';

describe('relay routes under a prefix', () => {
  it('opens a side on /api/relay/… always, and under the relay origin’s path when it has one', () => {
    expect(relaySideOf('/api/relay/agent', undefined)).toBe('agent');
    expect(relaySideOf('/api/relay/viewer', 'wss://lb.example')).toBe('viewer');
    expect(relaySideOf('/i/a1/api/relay/viewer', 'wss://lb.example/i/a1')).toBe('viewer');
    expect(relaySideOf('/i/a1/api/relay/agent', 'wss://lb.example/i/a1')).toBe('agent');
    expect(relaySideOf('/api/relay/viewer', 'wss://lb.example/i/a1')).toBe('viewer');
    expect(relaySideOf('/i/a2/api/relay/viewer', 'wss://lb.example/i/a1')).toBeUndefined();
    expect(relaySideOf('/i/a1/api/relay/viewer', undefined)).toBeUndefined();
    expect(relaySideOf('/api/relay/other', undefined)).toBeUndefined();
  });

  it('takes --ws-relay-origin with a path prefix and refuses what is not a ws[s] base URL', () => {
    const parse = (v: string) => serveOptions({ 'ws-relay-origin': v, 'data-dir': '/tmp/x' }).relayOrigin;
    expect(parse('wss://lb.example')).toBe('wss://lb.example');
    expect(parse('wss://lb.example/')).toBe('wss://lb.example');
    expect(parse('wss://lb.example:8443/i/a1/')).toBe('wss://lb.example:8443/i/a1');
    for (const bad of [
      'https://lb.example',
      'wss://u:p@lb.example',
      'wss://lb.example/?x=1',
      'wss://lb.example/#f',
      'wss://lb.example/a%20b',
      'lb.example',
    ]) {
      expect(() => parse(bad), bad).toThrow(/--ws-relay-origin/);
    }
  });
});

describe('a server with a prefixed relay origin', () => {
  let server: ApiServer | undefined;
  afterAll(() => server?.close());

  it('serves its relay under the prefix as well as without it', async () => {
    // The origin names this server's own address: no load balancer in between, nothing stripped.
    const probe = await startApiServer({ dataDir: mkdtempSync(join(tmpdir(), 'porthole-prefix-')), port: 0 });
    const port = probe.port;
    await probe.close();
    server = await startApiServer({
      dataDir: mkdtempSync(join(tmpdir(), 'porthole-prefix-')),
      port,
      relayOrigin: `ws://127.0.0.1:${port}/i/a1`,
    });
    const status = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          `ws://127.0.0.1:${port}${path}?ticket=${server!.instanceId}.${'A'.repeat(43)}`,
        );
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.once('open', () => reject(new Error('opened with a made-up ticket')));
        ws.once('error', () => undefined);
      });
    // An unknown ticket of this instance: 401 where the relay is served, 404 elsewhere.
    expect(await status('/i/a1/api/relay/viewer')).toBe(401);
    expect(await status('/i/a1/api/relay/agent')).toBe(401);
    expect(await status('/api/relay/viewer')).toBe(401);
    expect(await status('/i/a2/api/relay/viewer')).toBe(404);
  });
});
