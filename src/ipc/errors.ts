/**
 * Errors the IPC layer raises. Each carries a stable `code` (and, where one code covers several
 * causes, a `reason`) so callers branch on data, not on message text. No message ever includes a
 * secret, a key or a body: at most a field name, a size or a counter.
 */
import { PortholeError } from '../errors/porthole-error.js';
import type { ReplyErrorCode } from '../errors/reply-codes.js';

/** Codes an error-response may carry: the reply codes every boundary shares (src/errors/reply-codes.ts). */
export { REPLY_ERROR_CODES as IPC_ERROR_CODES } from '../errors/reply-codes.js';
export type IpcErrorCode = ReplyErrorCode;

export type IpcErrorKind =
  | 'ipc_bad_frame'
  | 'ipc_handshake_failed'
  | 'ipc_too_many_requests'
  | 'ipc_backpressure'
  | 'ipc_message_too_large'
  | 'ipc_channel_closed'
  | IpcErrorCode;

export class IpcError<Code extends IpcErrorKind = IpcErrorKind> extends PortholeError<Code> {
  override name = 'IpcError';
}

/** Why an incoming frame was refused. Any of these closes the connection that sent it. */
export type FrameRejection =
  | 'short_frame'
  | 'oversized_frame'
  | 'bad_direction'
  | 'bad_tag'
  | 'replayed_sequence'
  | 'skipped_sequence'
  | 'sequence_exhausted'
  | 'undecodable_payload'
  | 'bad_envelope'
  | 'invalid_body'
  | 'truncated_frame';

export class FrameError extends IpcError<'ipc_bad_frame'> {
  override name = 'FrameError';
  constructor(
    readonly reason: FrameRejection,
    detail?: string,
  ) {
    super('ipc_bad_frame', detail ? `${reason}: ${detail}` : reason);
  }
}

export type HandshakeFailure = 'auth_failed' | 'timeout' | 'bad_message' | 'unsupported_version' | 'closed';

/**
 * The handshake did not complete. An unknown helper id and a wrong proof are both `auth_failed`
 * with the same message, so a peer cannot probe which helper ids exist.
 */
export class HandshakeError extends IpcError<'ipc_handshake_failed'> {
  override name = 'HandshakeError';
  constructor(
    readonly reason: HandshakeFailure,
    message: string,
  ) {
    super('ipc_handshake_failed', message);
  }
}

/**
 * An error-response: thrown by a request handler to answer with a chosen code, and the rejection of
 * `request()` when the peer answered with an error.
 */
export class RequestError extends IpcError<IpcErrorCode> {
  override name = 'RequestError';
}

/** `request()` got no answer in time. Its `code` matches the error-response code for the same case. */
export class RequestTimeoutError extends IpcError<'timeout'> {
  override name = 'RequestTimeoutError';
  constructor(readonly timeoutMs: number) {
    super('timeout', `no response within ${timeoutMs} ms`);
  }
}

/** Raised by `request()` when the cap on requests awaiting a response is reached. */
export class TooManyRequestsError extends IpcError<'ipc_too_many_requests'> {
  override name = 'TooManyRequestsError';
  constructor(readonly limit: number) {
    super('ipc_too_many_requests', `${limit} requests are already awaiting a response`);
  }
}

/**
 * Raised by `send()` / `request()` when the bytes queued for the socket would exceed the channel's
 * bound: the peer is not reading. Nothing was queued; the channel stays open.
 */
export class BackpressureError extends IpcError<'ipc_backpressure'> {
  override name = 'BackpressureError';
  constructor(
    readonly queuedBytes: number,
    readonly limitBytes: number,
  ) {
    super('ipc_backpressure', `write queue holds ${queuedBytes} bytes, limit ${limitBytes}`);
  }
}

/** A body whose encoded frame would exceed the maximum frame size. Nothing was sent. */
export class MessageTooLargeError extends IpcError<'ipc_message_too_large'> {
  override name = 'MessageTooLargeError';
  constructor(
    readonly frameBytes: number,
    readonly limitBytes: number,
  ) {
    super('ipc_message_too_large', `frame of ${frameBytes} bytes exceeds the ${limitBytes}-byte limit`);
  }
}

/** Why a channel closed. `detail` is a short, secret-free explanation (a rejection reason, an errno). */
export type CloseCode =
  'closed' | 'peer_closed' | 'bad_frame' | 'idle_timeout' | 'rate_limited' | 'backpressure' | 'socket_error';

export interface CloseReason {
  code: CloseCode;
  detail?: string;
}

/** Pending and later calls on a closed channel reject with this. */
export class ChannelClosedError extends IpcError<'ipc_channel_closed'> {
  override name = 'ChannelClosedError';
  constructor(readonly reason: CloseReason) {
    super(
      'ipc_channel_closed',
      `channel closed (${reason.code}${reason.detail ? `: ${reason.detail}` : ''})`,
    );
  }
}
