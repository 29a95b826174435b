/**
 * The viewer's side of the API contract (same origin by default, or the configured server): bearer
 * auth on every call, JSON in and out, and `{error: {code, message}}` bodies turned into ApiError so
 * the message reaches the user. Responses are checked with the protocol's guards, extra fields allowed
 * (the API may grow), so a wrong shape is an error here, not an `undefined` deep in the UI.
 */
import { arrayOf, bool, int, object, oneOf, optional, str, type Guard } from '../protocol/validate.js';
import { iceServer, type IceServer } from '../protocol/common.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From `Retry-After` on a capacity answer (429, 503): when trying again may work. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** `Retry-After` in seconds (the API never sends the HTTP-date form), as milliseconds. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

export interface Device {
  id: string;
  name: string;
  online: boolean;
  lastSeen?: string | number;
}

export interface RemoteSession {
  sessionId: number;
  username: string;
  state: string;
  type: string;
  helperConnected: boolean;
  helperState: string;
  lastError?: string;
}

export interface IceConfig {
  iceServers: IceServer[];
  iceTransportPolicy?: 'all' | 'relay';
}

const loose = { allowExtra: true };
const text = str({ max: 4096 });
const lastSeen: Guard<string | number> = (v, path) => (typeof v === 'number' ? v : text(v, path));

const loginReply = object(
  { token: str({ min: 1, max: 4096 }), name: text, expiresAt: optional(lastSeen), viewOnly: optional(bool) },
  loose,
);
const meReply = object({ name: text, viewOnly: bool }, loose);
const devicesReply = object(
  {
    devices: arrayOf(
      object(
        { id: str({ min: 1, max: 256 }), name: text, online: bool, lastSeen: optional(lastSeen) },
        loose,
      ),
      {
        max: 10_000,
      },
    ),
  },
  loose,
);
const sessionsReply = object(
  {
    sessions: arrayOf(
      object(
        {
          sessionId: int(0, 0x7fff_ffff),
          username: text,
          state: text,
          type: text,
          helperConnected: bool,
          helperState: text,
          lastError: optional(text),
        },
        loose,
      ),
      { max: 1000 },
    ),
  },
  loose,
);
const iceReply = object(
  { iceServers: arrayOf(iceServer, { max: 8 }), iceTransportPolicy: optional(oneOf(['all', 'relay'])) },
  loose,
);
const desktopReply = object(
  { sessionId: str({ min: 1, max: 128 }), answer: str({ min: 3, max: 65_536 }) },
  loose,
);
const relayedDesktopReply = object(
  {
    sessionId: str({ min: 1, max: 128 }),
    transport: oneOf(['websocket']),
    relay: object({ url: str({ min: 1, max: 2048 }), ticket: str({ min: 1, max: 80 }) }, loose),
  },
  loose,
);
const stopReply = object({ sessionId: str({ min: 1, max: 128 }), stopped: bool }, loose);
const errorReply = object({ error: object({ code: text, message: text }, loose) }, loose);

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export class ApiClient {
  /**
   * @param base '' for same origin, else an origin such as `https://porthole.example.com` (the Tauri
   *   shell, where the page itself is not served by the API).
   */
  constructor(
    private readonly base: string,
    private token: string | undefined,
    private readonly fetchFn: FetchLike = (url, init) => fetch(url, init),
  ) {}

  /** What relative URLs of the API's answers resolve against: its origin, or this page's. */
  get baseUrl(): string {
    return this.base || location.href;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  login(oneTimeToken: string): Promise<{ token: string; name: string; viewOnly?: boolean }> {
    return this.call('POST', '/api/login', loginReply, { token: oneTimeToken }, false);
  }

  /** Who the token is and whether it is view-only (`GET /api/me`). */
  me(): Promise<{ name: string; viewOnly: boolean }> {
    return this.call('GET', '/api/me', meReply);
  }

  async devices(): Promise<Device[]> {
    return (await this.call('GET', '/api/devices', devicesReply)).devices;
  }

  async sessions(deviceId: string): Promise<RemoteSession[]> {
    return (await this.call('GET', `/api/devices/${encodeURIComponent(deviceId)}/sessions`, sessionsReply))
      .sessions;
  }

  iceConfig(): Promise<IceConfig> {
    return this.call('GET', '/api/ice-servers', iceReply);
  }

  startDesktop(
    deviceId: string,
    body: { offer: string; targetSessionId?: number; displayIndex?: number },
  ): Promise<{ sessionId: string; answer: string }> {
    return this.call('POST', `/api/devices/${encodeURIComponent(deviceId)}/desktop`, desktopReply, body);
  }

  /**
   * Starts a desktop over the API's WebSocket relay (no WebRTC): the answer names the relay socket to
   * open and its one-time ticket (design/API.md, "WebSocket relay").
   */
  startRelayedDesktop(
    deviceId: string,
    body: { targetSessionId?: number; displayIndex?: number },
  ): Promise<{ sessionId: string; relay: { url: string; ticket: string } }> {
    return this.call('POST', `/api/devices/${encodeURIComponent(deviceId)}/desktop`, relayedDesktopReply, {
      ...body,
      transport: 'websocket',
    });
  }

  /**
   * A second peer connection for a running desktop of this viewer, after a network change
   * (design/API.md, "Network change"): the same desktop, no new consent.
   */
  addPeer(
    deviceId: string,
    sessionId: string,
    offer: string,
  ): Promise<{ sessionId: string; answer: string }> {
    const path = `/api/devices/${encodeURIComponent(deviceId)}/desktop/${encodeURIComponent(sessionId)}/peer`;
    return this.call('POST', path, desktopReply, { offer });
  }

  stopDesktop(deviceId: string, sessionId: string): Promise<{ sessionId: string; stopped: boolean }> {
    const path = `/api/devices/${encodeURIComponent(deviceId)}/desktop/${encodeURIComponent(sessionId)}`;
    return this.call('DELETE', path, stopReply);
  }

  private async call<T>(
    method: string,
    path: string,
    guard: Guard<T>,
    body?: unknown,
    auth = true,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The session token travels in the header; cookies are never needed.
        credentials: 'omit',
      });
    } catch (err) {
      throw new ApiError(
        0,
        'network',
        `cannot reach the server (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      try {
        const { error } = errorReply(json, '');
        throw new ApiError(
          res.status,
          error.code,
          error.message,
          retryAfterMs(res.headers.get('retry-after')),
        );
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError(res.status, 'http', `${method} ${path} failed with HTTP ${res.status}`);
      }
    }
    try {
      return guard(json, '');
    } catch (err) {
      throw new ApiError(res.status, 'bad_reply', `unexpected reply from ${path}: ${(err as Error).message}`);
    }
  }
}

/** The API origin from the "server" field: '' (same origin) or a bare origin without a trailing slash. */
export function normaliseServer(input: string): string {
  const trimmed = input.trim();
  if (!trimmed) return '';
  const url = new URL(trimmed);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('server must be an http(s) URL');
  return url.origin;
}
