import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/api/static-files.js';

let server: ApiServer;
let unbuilt: ApiServer;

/** A raw GET, so paths like `/../x` reach the server unnormalised (fetch would resolve them). */
function rawGet(
  s: ApiServer,
  path: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${s.url}/`, { path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'porthole-static-'));
  const root = join(base, 'viewer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>porthole</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(base, 'secret.txt'), 'outside the root');
  symlinkSync(join(base, 'secret.txt'), join(root, 'escape.txt'));
  server = await startApiServer({ dataDir: join(base, 'data'), port: 0, staticDir: root });
  unbuilt = await startApiServer({ dataDir: join(base, 'data2'), port: 0, staticDir: join(base, 'missing') });
});
afterAll(async () => {
  await server.close();
  await unbuilt.close();
});

describe('static viewer', () => {
  it('serves index.html at / with no-store and an HTML content type', async () => {
    const r = await rawGet(server, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>porthole</title>');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('serves scripts and styles with their content types', async () => {
    expect((await rawGet(server, '/assets/app.js')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await rawGet(server, '/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/escape.txt',
    '/a%00b',
    '/nope.js',
  ])('answers 404 to %s (no way out of the static root)', async (path) => {
    const r = await rawGet(server, path);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('outside the root');
  });

  it('answers 503 with the build hint when the viewer is not built', async () => {
    const r = await rawGet(unbuilt, '/');
    expect(r.status).toBe(503);
    expect(r.body).toBe('viewer not built: run npm run build:viewer');
  });

  it('answers 405 to a POST outside /api', async () => {
    const r = await fetch(`${server.url}/`, { method: 'POST' });
    expect(r.status).toBe(405);
  });
});

describe('security headers', () => {
  it.each(['/', '/api/devices', '/missing'])('are set on %s', async (path) => {
    const r = await rawGet(server, path);
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-frame-options']).toBe('DENY');
  });

  it('allow only same-origin scripts and connections, and blob: media', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("media-src 'self' blob:");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });
});
