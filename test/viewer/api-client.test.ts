import { describe, expect, it } from 'vitest';
import {
  ApiClient,
  ApiError,
  normaliseServer,
  retryAfterMs,
  type FetchLike,
} from '../../src/viewer/api-client.js';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a route table and records each request. */
function stubFetch(
  routes: Record<string, { status?: number; body: unknown; headers?: Record<string, string> }>,
): {
  fetch: FetchLike;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const fetch: FetchLike = (url, init) => {
    const method = init.method ?? 'GET';
    seen.push({
      url,
      method,
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const route = routes[`${method} ${url}`];
    if (!route)
      return Promise.resolve(
        new Response('{"error":{"code":"not_found","message":"no route"}}', { status: 404 }),
      );
    return Promise.resolve(
      new Response(JSON.stringify(route.body), { status: route.status ?? 200, headers: route.headers ?? {} }),
    );
  };
  return { fetch, seen };
}

describe('ApiClient', () => {
  it('carries Retry-After of a capacity answer on the ApiError, in milliseconds', async () => {
    const { fetch } = stubFetch({
      'POST /api/devices/d/desktop': {
        status: 503,
        headers: { 'retry-after': '5' },
        body: { error: { code: 'too_many_viewers', message: 'full' } },
      },
    });
    const err = (await new ApiClient('', 'tok', fetch)
      .startDesktop('d', { offer: 'v=0' })
      .catch((e) => e)) as ApiError;
    expect([err.status, err.code, err.retryAfterMs]).toEqual([503, 'too_many_viewers', 5000]);
  });

  it('reads Retry-After only as whole seconds', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT')).toBeUndefined();
    expect(retryAfterMs('-1')).toBeUndefined();
    expect(retryAfterMs('1e9')).toBeUndefined();
  });

  it('sends the bearer token on every call and the JSON body of a desktop request', async () => {
    const { fetch, seen } = stubFetch({
      'POST /api/devices/dev%201/desktop': { body: { sessionId: 'd-1', answer: 'v=0 answer' } },
      'DELETE /api/devices/dev%201/desktop/d-1': { body: { sessionId: 'd-1', stopped: true } },
    });
    const api = new ApiClient('', 'tok', fetch);
    expect(await api.startDesktop('dev 1', { offer: 'v=0 offer', targetSessionId: 2 })).toEqual({
      sessionId: 'd-1',
      answer: 'v=0 answer',
    });
    expect(await api.stopDesktop('dev 1', 'd-1')).toEqual({ sessionId: 'd-1', stopped: true });
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok', 'Bearer tok']);
    expect(seen[0]?.body).toEqual({ offer: 'v=0 offer', targetSessionId: 2 });
  });

  it('prefixes the configured server origin', async () => {
    const { fetch, seen } = stubFetch({
      'GET https://api.example.com/api/ice-servers': {
        body: { iceServers: [{ urls: 'stun:stun.example.com:3478' }], iceTransportPolicy: 'relay' },
      },
    });
    const ice = await new ApiClient('https://api.example.com', 't', fetch).iceConfig();
    expect(ice.iceTransportPolicy).toBe('relay');
    expect(seen[0]?.url).toBe('https://api.example.com/api/ice-servers');
  });

  it("turns an {error} body into an ApiError carrying the server's message", async () => {
    const { fetch } = stubFetch({
      'GET /api/devices/x/sessions': {
        status: 409,
        body: { error: { code: 'device_offline', message: 'The device is offline' } },
      },
    });
    const err = await new ApiClient('', 't', fetch).sessions('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'device_offline', message: 'The device is offline' });
  });

  it('rejects a reply of the wrong shape instead of passing it on', async () => {
    const { fetch } = stubFetch({ 'GET /api/devices': { body: { devices: [{ id: 'a', name: 'A' }] } } });
    await expect(new ApiClient('', 't', fetch).devices()).rejects.toThrow(
      /devices\[0\]\.online: is required/,
    );
  });

  it('accepts fields the API adds later, keeping only the ones it knows', async () => {
    const { fetch } = stubFetch({
      'GET /api/devices': {
        body: { devices: [{ id: 'a', name: 'A', online: true, os: 'linux' }], total: 1 },
      },
    });
    expect(await new ApiClient('', 't', fetch).devices()).toEqual([{ id: 'a', name: 'A', online: true }]);
  });

  it('does not send a bearer token to /api/login', async () => {
    const { fetch, seen } = stubFetch({
      'POST /api/login': { body: { token: 's', name: 'alice', expiresAt: 1 } },
    });
    await new ApiClient('', 'old', fetch).login('one-time');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.body).toEqual({ token: 'one-time' });
  });

  it('reports an unreachable server as a network error', async () => {
    const api = new ApiClient('', 't', () => Promise.reject(new TypeError('Failed to fetch')));
    await expect(api.devices()).rejects.toMatchObject({ code: 'network', status: 0 });
  });
});

describe('normaliseServer', () => {
  it('keeps only the origin, and blank means same origin', () => {
    expect(normaliseServer(' https://porthole.example.com:8443/viewer/ ')).toBe(
      'https://porthole.example.com:8443',
    );
    expect(normaliseServer('')).toBe('');
  });

  it('refuses anything but http(s)', () => {
    expect(() => normaliseServer('javascript:alert(1)')).toThrow(/http/);
    expect(() => normaliseServer('not a url')).toThrow();
  });
});
