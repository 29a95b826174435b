/**
 * Signing in: a one-time token from the URL fragment (`#login=…`, the demo's link) or pasted by the
 * user is exchanged at POST /api/login for a session token; a named long-lived viewer token that
 * /api/login refuses is tried directly as a bearer token. The session token lives in sessionStorage
 * (gone with the tab); the server address in localStorage (a Tauri window has no same origin API).
 */
import { ApiError, type ApiClient } from './api-client.js';

const TOKEN_KEY = 'porthole.token';
const SERVER_KEY = 'porthole.server';
const VIEW_ONLY_KEY = 'porthole.viewOnly';

/** The token in `#login=<token>`, if any. */
export function loginTokenFromHash(hash: string): string | undefined {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('login')?.trim();
  return token || undefined;
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string | undefined, viewOnly = false): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  if (token !== undefined && viewOnly) sessionStorage.setItem(VIEW_ONLY_KEY, '1');
  else sessionStorage.removeItem(VIEW_ONLY_KEY);
}

/**
 * Whether the stored session is view-only, as the login answer said. Only a convenience for the UI:
 * the helper refuses a view-only viewer's input whatever the page believes.
 */
export function storedViewOnly(): boolean {
  return sessionStorage.getItem(VIEW_ONLY_KEY) === '1';
}

export function storedServer(): string {
  return localStorage.getItem(SERVER_KEY) ?? '';
}

export function storeServer(server: string): void {
  if (server) localStorage.setItem(SERVER_KEY, server);
  else localStorage.removeItem(SERVER_KEY);
}

/**
 * Exchanges or checks `token`; on success the client holds the token to use and it is stored. Resolves
 * with whether the token is view-only: the login answer says so for a one-time token, `GET /api/me`
 * for a token used directly (an API without that route: false, and the helper still refuses its input
 * if it is).
 */
export async function signIn(api: ApiClient, token: string): Promise<{ viewOnly: boolean }> {
  api.setToken(undefined);
  try {
    const session = await api.login(token);
    api.setToken(session.token);
    storeToken(session.token, session.viewOnly === true);
    return { viewOnly: session.viewOnly === true };
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) throw err;
  }
  api.setToken(token);
  let viewOnly = false;
  try {
    viewOnly = (await api.me()).viewOnly;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      api.setToken(undefined);
      throw err instanceof ApiError && err.status === 401
        ? new ApiError(401, 'unauthorized', 'This token is not valid (or has expired).')
        : err;
    }
    // An older API: the token is checked as before.
    try {
      await api.devices();
    } catch (e) {
      api.setToken(undefined);
      throw e instanceof ApiError && e.status === 401
        ? new ApiError(401, 'unauthorized', 'This token is not valid (or has expired).')
        : e;
    }
  }
  storeToken(token, viewOnly);
  return { viewOnly };
}
