/**
 * Errors the IPC layer raises. Each carries a stable machine-readable field (`reason` or `code`)
 * so callers branch on data, not on message text. No message ever includes a secret, a key or a
 * body: at most a field name, a size or a counter.
 */

/**
 * Codes an error-response may carry. They are the same five codes the rest of porthole answers with
 * (src/protocol's ERROR_CODES); the IPC layer keeps its own copy so it depends on nothing above it.
 */
export const IPC_ERROR_CODES = [
  'bad_request',
  'no_such_session',
  'helper_unavailable',
  'timeout',
  'internal',
] as const;
export type IpcErrorCode = (typeof IPC_ERROR_CODES)[number];

export class IpcError extends Error {
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

export class FrameError extends IpcError {
  override name = 'FrameError';
  constructor(
    readonly reason: FrameRejection,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

export type HandshakeFailure = 'auth_failed' | 'timeout' | 'bad_message' | 'unsupported_version' | 'closed';

/**
 * The handshake did not complete. An unknown helper id and a wrong proof are both `auth_failed`
 * with the same message, so a peer cannot probe which helper ids exist.
 */
export class HandshakeError extends IpcError {
  override name = 'HandshakeError';
  constructor(
    readonly reason: HandshakeFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An error-response: thrown by a request handler to answer with a chosen code, and the rejection of
 * `request()` when the peer answered with an error.
 */
export class RequestError extends IpcError {
  override name = 'RequestError';
  constructor(
    readonly code: IpcErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `request()` got no answer in time. Its `code` matches the error-response code for the same case. */
export class RequestTimeoutError extends IpcError {
  override name = 'RequestTimeoutError';
  readonly code = 'timeout' as const;
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
  }
}

/** Raised by `request()` when the cap on requests awaiting a response is reached. */
export class TooManyRequestsError extends IpcError {
  override name = 'TooManyRequestsError';
  constructor(readonly limit: number) {
    super(`${limit} requests are already awaiting a response`);
  }
}

/**
 * Raised by `send()` / `request()` when the bytes queued for the socket would exceed the channel's
 * bound: the peer is not reading. Nothing was queued; the channel stays open.
 */
export class BackpressureError extends IpcError {
  override name = 'BackpressureError';
  constructor(
    readonly queuedBytes: number,
    readonly limitBytes: number,
  ) {
    super(`write queue holds ${queuedBytes} bytes, limit ${limitBytes}`);
  }
}

/** A body whose encoded frame would exceed the maximum frame size. Nothing was sent. */
export class MessageTooLargeError extends IpcError {
  override name = 'MessageTooLargeError';
  constructor(
    readonly frameBytes: number,
    readonly limitBytes: number,
  ) {
    super(`frame of ${frameBytes} bytes exceeds the ${limitBytes}-byte limit`);
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
export class ChannelClosedError extends IpcError {
  override name = 'ChannelClosedError';
  constructor(readonly reason: CloseReason) {
    super(`channel closed (${reason.code}${reason.detail ? `: ${reason.detail}` : ''})`);
  }
}
