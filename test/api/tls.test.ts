import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isLoopbackHost, startApiServer, type ApiServer } from '../../src/api/server.js';

let dir: string;
let cert: Buffer;
let key: Buffer;
let server: ApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-tls-'));
  // prettier-ignore
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ];
  execFileSync('openssl', args, { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  server = await startApiServer({ dataDir: join(dir, 'data'), port: 0, tls: { cert, key } });
});
afterAll(() => server?.close());

describe('TLS', () => {
  it('serves HTTPS with the configured certificate, with HSTS', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await new Promise<{ status: number; hsts: unknown }>((resolve, reject) => {
      get(`${server.url}/api/devices`, { ca: cert }, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'] });
      }).on('error', reject);
    });
    expect(res).toEqual({ status: 401, hsts: 'max-age=31536000' });
  });

  it('accepts agents over wss://', async () => {
    const device = await server.addDevice('tls box');
    expect(server.agentUrl).toMatch(/^wss:\/\//);
    const ws = new WebSocket(server.agentUrl, {
      ca: cert,
      headers: { authorization: `Bearer ${device.token}`, 'x-porthole-device': device.id },
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.close();
  });

  it('refuses plain HTTP on a non-loopback address, naming the fix', async () => {
    await expect(startApiServer({ dataDir: join(dir, 'd2'), host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /refusing plain HTTP on 0\.0\.0\.0.*--tls-cert/,
    );
  });

  it('allows a non-loopback address with TLS', async () => {
    const s = await startApiServer({
      dataDir: join(dir, 'd3'),
      host: '0.0.0.0',
      port: 0,
      tls: { cert, key },
    });
    await s.close();
  });

  it('knows which hosts are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h)).toBe(false);
  });
});
