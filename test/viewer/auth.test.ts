/**
 * Signing in and whether the UI is view-only: from the login answer, and for a token /api/login
 * refuses (used directly as a bearer token) from GET /api/me; an API without that route falls back
 * to the old check and a full UI (the helper still enforces). sessionStorage is a small stand-in.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, type FetchLike } from '../../src/viewer/api-client.js';
import { signIn, storedViewOnly } from '../../src/viewer/auth.js';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: (i) => [...m.keys()][i] ?? null,
    get length() {
      return m.size;
    },
  };
}

beforeEach(() => vi.stubGlobal('sessionStorage', memoryStorage()));
afterEach(() => vi.unstubAllGlobals());

const reply = (status: number, body: unknown) =>
  Promise.resolve(new Response(JSON.stringify(body), { status }));
const refused = { error: { code: 'unauthorized', message: 'no' } };

function api(routes: Record<string, () => Promise<Response>>): ApiClient {
  const fetch: FetchLike = (url, init) =>
    (
      routes[`${init.method ?? 'GET'} ${url}`] ??
      (() => reply(404, { error: { code: 'not_found', message: 'x' } }))
    )();
  return new ApiClient('', undefined, fetch);
}

describe('signIn and the view-only UI', () => {
  it('takes view-only from the login answer', async () => {
    const a = api({ 'POST /api/login': () => reply(200, { token: 't', name: 'w', viewOnly: true }) });
    expect(await signIn(a, 'one-time')).toEqual({ viewOnly: true });
    expect(storedViewOnly()).toBe(true);
  });

  it('asks GET /api/me for a token used directly', async () => {
    const a = api({
      'POST /api/login': () => reply(401, refused),
      'GET /api/me': () => reply(200, { name: 'watcher', viewOnly: true }),
    });
    expect(await signIn(a, 'long-lived')).toEqual({ viewOnly: true });
    expect(storedViewOnly()).toBe(true);
  });

  it('falls back to the device list on an API without /api/me, and refuses a bad token', async () => {
    const older = api({
      'POST /api/login': () => reply(401, refused),
      'GET /api/devices': () => reply(200, { devices: [] }),
    });
    expect(await signIn(older, 'long-lived')).toEqual({ viewOnly: false });
    expect(storedViewOnly()).toBe(false);
    const bad = api({
      'POST /api/login': () => reply(401, refused),
      'GET /api/me': () => reply(401, refused),
    });
    await expect(signIn(bad, 'wrong')).rejects.toThrow(/not valid/);
  });
});
