/**
 * The envelope the channel wraps each body in: a msgpack array `[kind, id, body]`. `id` correlates a
 * request with its response (0 for kinds that need no answer). Pings and pongs carry a null body.
 */
import { PortholeError } from '../errors/porthole-error.js';
import { isReplyErrorCode } from '../errors/reply-codes.js';
import { FrameError, type IpcErrorCode } from './errors.js';

export const Kind = {
  message: 0,
  request: 1,
  response: 2,
  errorResponse: 3,
  ping: 4,
  pong: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const MAX_REQUEST_ID = 0xffff_ffff;
/** Bounds what an error-response may make this process hold and log. */
export const MAX_ERROR_MESSAGE_CHARS = 2000;

export interface Envelope {
  kind: Kind;
  id: number;
  body: unknown;
}

export interface ErrorBody {
  code: IpcErrorCode;
  message: string;
  /** With a capacity code: when to try again. */
  retryAfterMs?: number;
}

/** An hour: longer is no hint a caller could use. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** Checks the envelope's shape; throws FrameError('bad_envelope') naming the first bad part. */
export function readEnvelope(value: unknown): Envelope {
  if (!Array.isArray(value) || value.length !== 3) throw new FrameError('bad_envelope', 'not a 3-item array');
  const [kind, id, body] = value as [unknown, unknown, unknown];
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < Kind.message || kind > Kind.pong) {
    throw new FrameError('bad_envelope', 'kind');
  }
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_REQUEST_ID) {
    throw new FrameError('bad_envelope', 'id');
  }
  const needsId = kind === Kind.request || kind === Kind.response || kind === Kind.errorResponse;
  if (needsId !== (id !== 0)) throw new FrameError('bad_envelope', 'id');
  if ((kind === Kind.ping || kind === Kind.pong) && body !== null)
    throw new FrameError('bad_envelope', 'body');
  return { kind: kind as Kind, id, body };
}

export function readErrorBody(value: unknown): ErrorBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('bad_envelope', 'error body');
  }
  const { code, message, retryAfterMs, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new FrameError('bad_envelope', 'error body field');
  if (
    retryAfterMs !== undefined &&
    !(
      Number.isInteger(retryAfterMs) &&
      (retryAfterMs as number) >= 0 &&
      (retryAfterMs as number) <= MAX_RETRY_AFTER_MS
    )
  ) {
    throw new FrameError('bad_envelope', 'error retryAfterMs');
  }
  if (!isReplyErrorCode(code)) {
    throw new FrameError('bad_envelope', 'error code');
  }
  if (typeof message !== 'string' || message.length > MAX_ERROR_MESSAGE_CHARS) {
    throw new FrameError('bad_envelope', 'error message');
  }
  return { code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs: retryAfterMs as number }) };
}

/**
 * The error-response for what a request handler threw: a porthole error whose code is a reply code
 * (a RequestError, a validator's FieldError as `bad_request`, a broker's `no_such_session`) keeps its
 * code and message; anything else is `internal` with a fixed message, since an arbitrary error's text
 * was not written for the peer.
 */
export function errorBodyOf(err: unknown): ErrorBody {
  if (err instanceof PortholeError && isReplyErrorCode(err.code)) {
    const retry = err.retryAfterMs;
    return {
      code: err.code,
      message: err.message.slice(0, MAX_ERROR_MESSAGE_CHARS),
      ...(retry === undefined
        ? {}
        : { retryAfterMs: Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(retry))) }),
    };
  }
  return { code: 'internal', message: 'internal error' };
}
