/** JSON in and out of the viewer API: bounded body reading and the `{error: {code, message}}` shape. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError } from '../protocol/validate.js';
import { PortholeError } from '../errors/porthole-error.js';

/** Largest request body (an offer is ~5 KiB; SDP itself is capped at 64 KiB by the protocol). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A failure with its HTTP status; `code` is stable for clients, `message` is for people. */
export class HttpError extends PortholeError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    /** The offending field's path, for 400s. */
    readonly field?: string,
    /** Extra response headers (e.g. `allow` on a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** Seconds a client waits before retrying while the API's database is unreachable. */
export const STORE_RETRY_AFTER_S = 5;

/** 503 `store_unavailable`: the API is up but cannot reach its database (PostgreSQL) right now. */
export function storeUnavailable(): HttpError {
  return new HttpError(
    503,
    'store_unavailable',
    'the API cannot reach its database right now; try again shortly',
    undefined,
    { 'retry-after': String(STORE_RETRY_AFTER_S) },
  );
}

/** A validator failure as a 400 that names the field (e.g. `offer: is required`). */
export function badRequest(err: ProtocolError): HttpError {
  return new HttpError(400, 'bad_request', err.message, err.field || undefined);
}

/**
 * How an agent's error code maps onto HTTP: what the viewer did wrong stays a 4xx, what went wrong
 * on the machine a 5xx; the agent's own code and message pass through unchanged.
 */
export function agentErrorStatus(code: string): number {
  switch (code) {
    case 'bad_request':
      return 400;
    case 'no_such_session':
    case 'no_such_desktop':
      return 404;
    case 'rate_limited':
      return 429;
    case 'consent_denied':
    case 'consent_timeout':
      return 403;
    case 'helper_unavailable':
    case 'too_many_viewers':
    case 'busy':
      return 503;
    case 'timeout':
      return 504;
    default:
      return 502;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  if (err.status === 401) res.setHeader('www-authenticate', 'Bearer');
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  sendJson(res, err.status, {
    error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) },
  });
}

/**
 * How much of an oversized body is read and thrown away after the 413, so that the connection closes
 * only once the client has sent it: closing with request bytes unread makes the kernel reset the
 * connection, and a client still uploading then sees the reset instead of the 413. A client sending
 * more than this is cut off.
 */
export const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/** Reads and throws away the rest of a request body (bounded: past the bound the socket is closed). */
function discardBody(req: IncomingMessage): void {
  let left = MAX_DISCARDED_BYTES;
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) req.socket.destroy();
  });
  req.resume();
}

/** Reads and parses a JSON body of at most MAX_BODY_BYTES; 413 past that, 400 if it is not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const tooLarge = () => new HttpError(413, 'too_large', `request body exceeds ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(req);
    throw tooLarge();
  }
  // Listening for 'data' (rather than async iteration, which destroys the socket when abandoned)
  // lets the 413 reach the client; the rest of an oversized body is discarded as it drains.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        discardBody(req);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that hangs up mid-body: settle rather than leave the request pending (a no-op after 'end').
    req.once('close', () => reject(new HttpError(400, 'bad_request', 'request body was cut short')));
  });
  const text = body.toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'bad_request', 'request body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'bad_request', 'request body is not valid JSON');
  }
}

/** Runs a protocol validator, turning its ProtocolError into a 400 naming the field. */
export function validateBody<T>(guard: (v: unknown, path: string) => T, body: unknown): T {
  try {
    return guard(body, '');
  } catch (err) {
    if (err instanceof ProtocolError) throw badRequest(err);
    throw err;
  }
}
