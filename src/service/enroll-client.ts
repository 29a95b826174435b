/**
 * The agent's side of `POST /api/enroll`: one request with the enrollment key, a bounded wait-and-retry
 * when the API says 429 with a Retry-After, and an EnrollError whose message tells an administrator
 * (or an installer log) what went wrong and what to do: a refused key, a network failure, a server
 * that is not a porthole API. Neither the key nor the returned token appears in any message.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PortholeError } from '../errors/porthole-error.js';
import { errorMessage } from '../errors/error-text.js';
import { ENROLL_KEY_CODES, enrollResponse, type EnrollResponse } from '../protocol/enroll.js';
import { ProtocolError } from '../protocol/validate.js';
import { realTimers, type Timers } from '../time/timers.js';
import { retryAfterMs } from './retry-after.js';

/**
 * `bad_server_url`: --server is not a usable URL; `network`: no HTTP answer (refused, DNS, TLS,
 * timeout); `not_porthole`: something answered, but not a porthole API with enrollment;
 * `key_refused`: a 401 (the server's code in `serverCode`); `rate_limited`: still 429 after the
 * retries, or a Retry-After too long to wait; `refused`: any other 4xx; `server_error`: a 5xx.
 */
export type EnrollErrorCode =
  'bad_server_url' | 'network' | 'not_porthole' | 'key_refused' | 'rate_limited' | 'refused' | 'server_error';

export class EnrollError extends PortholeError<EnrollErrorCode> {
  override name = 'EnrollError';
  constructor(
    code: EnrollErrorCode,
    message: string,
    /** The API's error code, when it gave one. */
    readonly serverCode?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export interface ServerUrl {
  /** The API's base, without a trailing slash (`https://host:8443`, or with a path prefix). */
  base: string;
  /** The agent WebSocket URL at the same place (`wss://host:8443/api/agent`). */
  agentUrl: string;
}

/**
 * Checks `--server`: https, or http to a loopback address only (the key and the token would cross the
 * network in the clear otherwise, and `porthole api serve` refuses plain HTTP elsewhere anyway). A
 * path (a reverse proxy's prefix) is kept; credentials, a query or a fragment are refused.
 */
export function parseServerUrl(text: string): ServerUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EnrollError('bad_server_url', `--server '${text}' is not a URL (https://HOST[:PORT])`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnrollError('bad_server_url', `--server must be an https:// URL, got '${url.protocol}'`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new EnrollError(
      'bad_server_url',
      '--server must be just https://HOST[:PORT][/PATH], without credentials, query or fragment',
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new EnrollError(
      'bad_server_url',
      `--server ${url.origin} is plain http: the key and the device token would cross the network in the clear; use https://`,
    );
  }
  const path = url.pathname.replace(/\/+$/, '');
  const base = `${url.origin}${path}`;
  const agentUrl = `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${path}/api/agent`;
  return { base, agentUrl };
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export interface EnrollRequestOptions {
  server: ServerUrl;
  key: string;
  machine: { hostname: string; os: string; arch: string; agentVersion: string };
  timers?: Timers;
  /** How many times a 429 is waited out and retried (default 2). */
  retries?: number;
  /** A Retry-After longer than this is not waited for (default 120 s). */
  maxRetryAfterMs?: number;
  /** Told before each wait, so the user sees why nothing happens. */
  onRetry?: (waitMs: number, attempt: number) => void;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /**
   * Added to each Retry-After wait, so that machines limited together do not all come back in the
   * same second (default: up to 1 s at random).
   */
  jitterMs?: () => number;
}

/** Enrolls this machine; resolves with the API's answer (validated) or throws EnrollError. */
export async function requestEnrollment(o: EnrollRequestOptions): Promise<EnrollResponse> {
  const timers = o.timers ?? realTimers;
  const retries = o.retries ?? 2;
  for (let attempt = 1; ; attempt++) {
    const res = await post(o);
    if (res.status !== 429) return readAnswer(o.server, res);
    const waitMs = retryAfterMs(res.header('retry-after'));
    const max = o.maxRetryAfterMs ?? 120_000;
    if (attempt > retries || waitMs === undefined || waitMs > max) {
      const when = waitMs === undefined ? 'later' : `in ${Math.ceil(waitMs / 1000)} s`;
      throw new EnrollError(
        'rate_limited',
        `${o.server.base} refused the enrollment: too many attempts from this address (429); try again ${when}`,
        'rate_limited',
      );
    }
    const wait = waitMs + (o.jitterMs ?? (() => Math.floor(Math.random() * 1000)))();
    o.onRetry?.(wait, attempt);
    await new Promise<void>((resolve) => timers.setTimeout(resolve, wait));
  }
}

/** The parts of an HTTP answer enrollment reads. */
interface HttpAnswer {
  status: number;
  header(name: string): string | null;
  /** The body as text, cut at MAX_ANSWER_BYTES (an enrollment answer is a few hundred bytes). */
  text: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One POST through node:http(s), not fetch: under Wine, undici's connect fails (it sets keep-alive on
 * the socket before connecting, which Wine's Winsock refuses), and the MSI enrolls through this very
 * code. Redirects are never followed: one would carry the key elsewhere (307/308 resend the body).
 */
function post(o: EnrollRequestOptions): Promise<HttpAnswer> {
  const url = new URL(`${o.server.base}/api/enroll`);
  const body = Buffer.from(JSON.stringify({ key: o.key, ...o.machine }));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const fail = (err: unknown) =>
      reject(
        new EnrollError('network', `cannot reach ${o.server.base}: ${networkReason(err)}`, undefined, {
          cause: err,
        }),
      );
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': body.length,
        },
        timeout: o.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', fail);
        res.on('end', () => {
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => {
              const v = headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
            text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', fail);
    req.end(body);
  });
}

/** What went wrong below HTTP, in words (node's socket and TLS errors carry a `code`). */
function networkReason(err: unknown): string {
  const code =
    typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
  switch (code) {
    case 'TIMEOUT':
      return 'no answer in time';
    case 'ECONNREFUSED':
      return 'connection refused (is `porthole api serve` running there, on that port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
      return 'the connection timed out';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was closed before an answer (is it an https server? a plain http one?)';
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'TLS failed (does the server speak https on that port?)';
    default:
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
        return (
          `its TLS certificate is not trusted (${code}); if the API uses a private CA, give it with ` +
          'NODE_EXTRA_CA_CERTS=ca.pem'
        );
      }
      return code ?? errorMessage(err);
  }
}

/** What an administrator should do about each refused key. */
const KEY_ADVICE: Record<string, string> = {
  enroll_key_invalid:
    'the server does not know this enrollment key: check that it was copied whole and that --server is the API that issued it',
  enroll_key_expired:
    'the enrollment key has expired: create a new one on the server (porthole api enroll-key create --expires 7d)',
  enroll_key_used_up:
    'the enrollment key has been used as many times as it allows: create a new one (--uses N for several machines)',
  enroll_key_revoked: 'the enrollment key was revoked on the server: ask its administrator for a new one',
};

function readAnswer(server: ServerUrl, res: HttpAnswer): EnrollResponse {
  const where = `${server.base}/api/enroll`;
  const notPorthole = (why: string) =>
    new EnrollError(
      'not_porthole',
      `${server.base} does not look like a porthole API (${why}); check --server (the address of \`porthole api serve\`, without /api)`,
    );
  if (res.status >= 300 && res.status < 400) {
    const to = res.header('location');
    const shown = to ? ` to ${to.slice(0, 200).replace(/[\p{Cc}\p{Cf}]/gu, '?')}` : '';
    throw notPorthole(
      `POST ${where} answered ${res.status}, a redirect${shown}; give the final address as --server`,
    );
  }
  const text = res.text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw notPorthole(`POST ${where} answered ${res.status} with something that is not JSON`);
  }
  if (res.status === 201) {
    try {
      return enrollResponse(body, '');
    } catch (err) {
      if (err instanceof ProtocolError) throw notPorthole(`its answer is not an enrollment: ${err.message}`);
      throw err;
    }
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  // The server's words reach a terminal or an installer log: no control characters (escape sequences).
  const clean = (v: string, max: number) => v.slice(0, max).replace(/[\p{Cc}\p{Cf}]/gu, '?');
  const code = typeof error?.code === 'string' ? clean(error.code, 64) : undefined;
  const message = typeof error?.message === 'string' ? clean(error.message, 300) : '';
  if (code === undefined) throw notPorthole(`POST ${where} answered ${res.status} without a porthole error`);
  if (res.status === 404 || res.status === 405) {
    throw notPorthole(`POST ${where} answered ${res.status} ${code}: a porthole API older than enrollment?`);
  }
  if (res.status === 401 && (ENROLL_KEY_CODES as readonly string[]).includes(code)) {
    throw new EnrollError('key_refused', `${KEY_ADVICE[code] ?? message} (${code})`, code);
  }
  if (res.status >= 500) {
    throw new EnrollError(
      'server_error',
      `${server.base} failed to enroll this machine (${res.status} ${code}: ${message}); see the API's log and try again`,
      code,
    );
  }
  throw new EnrollError(
    'refused',
    `${server.base} refused the enrollment (${res.status} ${code}: ${message})`,
    code,
  );
}
