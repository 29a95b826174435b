/**
 * CORS for viewers served from another origin (`porthole api serve --allow-origin`): exactly the listed
 * origins get CORS headers on /api, a preflight is answered before authentication, and without the
 * flag no CORS header is sent at all.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/api/server.js';
import { checkAllowedOrigin } from '../../src/api/cors.js';
import { startHarness, type Harness } from './harness.js';

const TAURI = 'tauri://localhost';
const SITE = 'https://viewer.example.org';

/** A raw request, so that `Origin` is sent exactly as a browser would. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization, content-type',
});

describe('with --allow-origin', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ allowOrigins: [TAURI, SITE] });
  });
  afterAll(() => h.close());
  const devices = () => `${h.server.url}/api/devices`;

  it('answers a listed origin’s preflight with 204 and the methods and headers the API uses', async () => {
    const r = await send(`${h.server.url}/api/devices/dev-x/desktop`, 'OPTIONS', preflight(TAURI));
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(TAURI);
    expect(r.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(r.headers['access-control-allow-headers']).toBe('authorization, content-type');
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    expect(r.headers.vary).toMatch(/origin/i);
  });

  it('lets a listed origin read answers, errors and Retry-After included', async () => {
    const okr = await send(devices(), 'GET', { origin: SITE, authorization: `Bearer ${h.viewerToken}` });
    expect(okr.status).toBe(200);
    expect(okr.headers['access-control-allow-origin']).toBe(SITE);
    expect(okr.headers['access-control-expose-headers']).toMatch(/retry-after/);
    const unauth = await send(devices(), 'GET', { origin: SITE });
    expect(unauth.status).toBe(401);
    expect(unauth.headers['access-control-allow-origin']).toBe(SITE);
  });

  it('refuses an unlisted origin’s preflight with 403 origin_not_allowed and no CORS header', async () => {
    const r = await send(devices(), 'OPTIONS', preflight('https://evil.example'));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({
      error: {
        code: 'origin_not_allowed',
        message: "origin 'https://evil.example' is not allowed (porthole api serve --allow-origin)",
      },
    });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves an unlisted origin’s plain request without CORS headers (the same-origin viewer sends Origin too)', async () => {
    const r = await send(devices(), 'GET', {
      origin: h.server.url,
      authorization: `Bearer ${h.viewerToken}`,
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS header outside /api', async () => {
    const r = await send(`${h.server.url}/index.html`, 'GET', { origin: TAURI });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('without --allow-origin', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('sends no CORS header and refuses every preflight', async () => {
    const get = await send(`${h.server.url}/api/devices`, 'GET', {
      origin: TAURI,
      authorization: `Bearer ${h.viewerToken}`,
    });
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    expect(get.headers.vary).toBeUndefined();
    const pre = await send(`${h.server.url}/api/devices`, 'OPTIONS', preflight(TAURI));
    expect(pre.status).toBe(403);
  });
});

describe('checking --allow-origin values', () => {
  it.each([TAURI, SITE, 'http://tauri.localhost', 'http://127.0.0.1:5173'])('accepts %s', (origin) => {
    expect(checkAllowedOrigin(origin)).toBe(origin);
  });

  it.each([
    ['*', /name each origin/],
    ['null', /name each origin/],
    ['viewer.example.org', /not an origin/],
    ['https://viewer.example.org/', /write it as a browser sends it: 'https:\/\/viewer\.example\.org'/],
    ['https://viewer.example.org/app', /write it as a browser sends it/],
    ['HTTPS://Viewer.example.org', /write it as a browser sends it: 'https:\/\/viewer\.example\.org'/],
    ['https://viewer.example.org:443', /write it as a browser sends it: 'https:\/\/viewer\.example\.org'/],
    ['https://u:p@viewer.example.org', /scheme:\/\/host\[:port\] only/],
    ['https://viewer.example.org?x=1', /scheme:\/\/host\[:port\] only/],
  ])('refuses %s', (origin, why) => {
    expect(() => checkAllowedOrigin(origin)).toThrow(why);
  });

  it('keeps the API from starting with a bad origin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-api-'));
    await expect(
      startApiServer({ dataDir: dir, port: 0, allowOrigins: ['https://x.example/'] }),
    ).rejects.toThrow(/--allow-origin/);
  });
});
