import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/api/server.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const login = (token: unknown) => h.request('POST', '/api/login', { token }, null);

describe('POST /api/login', () => {
  it('exchanges a one-time login token for a 12-hour session token that works as a bearer', async () => {
    const once = await h.server.issueLoginToken('bob');
    const r = await login(once);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      name: 'bob',
      expiresAt: expect.any(String),
      viewOnly: false,
    });
    const hours = (Date.parse(r.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    expect((await h.request('GET', '/api/devices', undefined, r.body.token)).status).toBe(200);
    expect(await h.audit()).toContainEqual(
      expect.objectContaining({ viewer: 'bob', action: 'login', ok: true }),
    );
  });

  it('accepts a one-time token only once', async () => {
    const once = await h.server.issueLoginToken('carol');
    expect((await login(once)).status).toBe(200);
    const again = await login(once);
    expect(again.status).toBe(401);
    expect(await h.audit()).toContainEqual(
      expect.objectContaining({ viewer: null, action: 'login', ok: false, code: 'unauthorized' }),
    );
  });

  it('lets only one of two concurrent logins with the same one-time token succeed', async () => {
    const once = await h.server.issueLoginToken('racer');
    const results = await Promise.all([login(once), login(once), login(once)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('refuses a login token used directly as a bearer token', async () => {
    const once = await h.server.issueLoginToken('dave');
    const r = await h.request('GET', '/api/devices', undefined, once);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/POST \/api\/login/);
    expect((await login(once)).status).toBe(200);
  });

  it('refuses an expired login token', async () => {
    const { token } = await h.server.store.issueViewerToken('late', { once: true, ttlMs: -1 });
    expect((await login(token)).status).toBe(401);
  });

  it('exchanges a named token without consuming it, but not a session token', async () => {
    const session = await login(h.viewerToken);
    expect(session.status).toBe(200);
    expect(session.body.name).toBe('alice');
    expect((await login(h.viewerToken)).status).toBe(200);
    expect((await login(session.body.token)).status).toBe(401);
  });

  it('answers 400 naming the token field for a bad body', async () => {
    const r = await h.request('POST', '/api/login', { tok: 'x' }, null);
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('token');
    expect((await h.request('GET', '/api/login', undefined, null)).status).toBe(405);
  });

  it('ends sessions when their name is revoked', async () => {
    const once = await h.server.issueLoginToken('erin');
    const { token } = (await login(once)).body;
    expect(await h.server.store.revokeViewerTokens('erin')).toBe(1);
    expect((await h.request('GET', '/api/devices', undefined, token)).status).toBe(401);
  });

  it('keeps session tokens across a restart of the API (they are persisted as hashes)', async () => {
    const { token } = (await login(await h.server.issueLoginToken('frank'))).body;
    // Another API process on the same store (the data dir, or the same database).
    const again = await startApiServer({ ...h.storeOptions, port: 0 });
    try {
      const r = await fetch(`${again.url}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
    } finally {
      await again.close();
    }
  });
});
