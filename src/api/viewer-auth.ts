/**
 * Viewer authentication. Three kinds of bearer token, all kept in the store as hashes:
 * - named long-lived tokens (`porthole api token issue <name>`) work directly as bearer tokens;
 * - one-time login tokens (`token issue <name> --once`, or the demo) expire after 10 minutes and are
 *   only good for `POST /api/login`, which consumes them;
 * - session tokens, minted by that login, last 12 hours. They are persisted, so a restart of the API
 *   does not log viewers out, and `token revoke <name>` ends them together with the token that made them.
 */
import { HttpError } from './http-json.js';
import { viewerTokenKind, type ApiStore, type ViewerTokenKind } from './store.js';
import { bearerToken } from './tokens.js';

export const LOGIN_TOKEN_TTL_MS = 10 * 60_000;
export const SESSION_TOKEN_TTL_MS = 12 * 3600_000;

export interface Viewer {
  name: string;
  kind: ViewerTokenKind;
  /** From the token (`token issue --view-only`): the helper refuses this viewer's input and files. */
  viewOnly: boolean;
}

export interface LoginResult {
  token: string;
  name: string;
  expiresAt: string;
  /** The viewer turns its input and file controls off; the helper enforces it whatever the viewer does. */
  viewOnly: boolean;
}

export class ViewerAuth {
  constructor(
    private readonly store: ApiStore,
    private readonly ttl: { loginMs?: number; sessionMs?: number } = {},
    /**
     * Several instances on a JSON store with Redis (src/api/redis/once-guard.ts): true for the first
     * instance to spend this one-time token, false for every later one. Absent: the store decides alone.
     */
    private readonly spendOnce?: (key: string, ttlMs: number) => Promise<boolean>,
  ) {}

  /** The viewer behind an `Authorization` header; 401 unless it carries a named or session token. */
  async authenticate(header: string | undefined): Promise<Viewer> {
    const token = bearerToken(header);
    if (!token) throw new HttpError(401, 'unauthorized', 'missing or malformed bearer token');
    const record = await this.store.findViewerToken(token);
    if (!record) throw new HttpError(401, 'unauthorized', 'unknown, expired or revoked token');
    const kind = viewerTokenKind(record);
    if (kind === 'login') {
      throw new HttpError(401, 'unauthorized', 'a login token must first be exchanged at POST /api/login');
    }
    return { name: record.name, kind, viewOnly: record.viewOnly === true };
  }

  /**
   * Exchanges a one-time login token (consumed) or a named token (kept) for a session token. A session
   * token cannot renew itself, so a stolen one dies on schedule.
   */
  async login(token: string): Promise<LoginResult> {
    const record = await this.store.findViewerToken(token);
    const kind = record && viewerTokenKind(record);
    if (!record || kind === 'session') {
      throw new HttpError(401, 'unauthorized', 'unknown, expired or already used login token');
    }
    // The store removes the record atomically (its lock, or DELETE … RETURNING), so of two
    // concurrent logins only one succeeds, on one API instance or several.
    if (kind === 'login' && this.spendOnce) {
      const ttlMs = record.expiresAt
        ? Date.parse(record.expiresAt) - Date.now() + 60_000
        : LOGIN_TOKEN_TTL_MS;
      if (!(await this.spendOnce(record.tokenHash, ttlMs))) {
        throw new HttpError(401, 'unauthorized', 'unknown, expired or already used login token');
      }
    }
    if (kind === 'login' && !(await this.store.consumeViewerToken(record))) {
      throw new HttpError(401, 'unauthorized', 'unknown, expired or already used login token');
    }
    // A session inherits the restriction of the token it was made from.
    const session = await this.store.issueViewerToken(record.name, {
      ttlMs: this.ttl.sessionMs ?? SESSION_TOKEN_TTL_MS,
      viewOnly: record.viewOnly === true,
    });
    return {
      token: session.token,
      name: record.name,
      expiresAt: session.record.expiresAt ?? '',
      viewOnly: record.viewOnly === true,
    };
  }

  /** A one-time login token for `name` (what the demo opens the viewer with). */
  async issueLoginToken(name: string, opts: { viewOnly?: boolean } = {}): Promise<string> {
    const issued = await this.store.issueViewerToken(name, {
      once: true,
      ttlMs: this.ttl.loginMs ?? LOGIN_TOKEN_TTL_MS,
      ...(opts.viewOnly ? { viewOnly: true } : {}),
    });
    return issued.token;
  }
}
