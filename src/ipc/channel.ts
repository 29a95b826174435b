/**
 * An authenticated message channel over one connected stream, after the handshake. It owns the
 * envelope (`[kind, id, body]`), request/response correlation, keep-alive, the rate limit and
 * back-pressure. Anything wrong in what the peer sends closes the connection, is logged once, and
 * never escapes as an exception. See design/IPC.md for the limits and their reasons.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { FieldError, PortholeError } from '../errors/porthole-error.js';
import { isReplyErrorCode } from '../errors/reply-codes.js';
import {
  resolveChannelOptions,
  type ChannelOptions,
  type ResolvedChannelOptions,
} from './channel-options.js';
import { Kind, errorBodyOf, readEnvelope, readErrorBody } from './envelope.js';
import {
  BackpressureError,
  ChannelClosedError,
  FrameError,
  MessageTooLargeError,
  RequestError,
  type CloseReason,
} from './errors.js';
import { FrameOpener, FrameSealer, authenticatedFrameReader, type FrameReader } from './frame.js';
import { FrameWriter } from './frame-writer.js';
import type { SessionKeys } from './handshake.js';
import { decodePayload } from './payload.js';
import { PendingRequests } from './pending-requests.js';
import { TokenBucket } from './rate-limit.js';
import { silentLogger } from '../log/logger.js';

export type { ChannelOptions, RateLimit } from './channel-options.js';

/** How long a graceful close waits for the peer to finish before the socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * One end of an authenticated connection. `TIn` is what the peer sends (checked by
 * `options.validate`), `TOut` what this side sends. Obtain one from `connectIpc`, `IpcServer`,
 * `acceptInheritedChannel` or `connectInheritedChannel`.
 *
 * Incoming messages and requests that arrive before a handler for them is registered are held
 * (together with running handlers, at most `maxConcurrentHandlers`) and delivered in order once it is.
 */
export class Channel<TIn, TOut = TIn> extends EventEmitter<{ close: [CloseReason] }> {
  /** The authenticated helper id of this connection. */
  readonly helperId: string;
  /** Resolves, never rejects, once the channel has closed. */
  readonly closed: Promise<CloseReason>;

  private readonly opts: ResolvedChannelOptions<TIn>;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  private readonly opener: FrameOpener;
  private readonly bucket: TokenBucket;
  private readonly pending: PendingRequests<TIn>;
  private readonly heldMessages: TIn[] = [];
  private readonly heldRequests: { id: number; body: TIn }[] = [];
  private readonly keepAlive: NodeJS.Timeout;
  private messageHandler: ((body: TIn) => void) | undefined;
  private requestHandler: ((body: TIn) => Promise<TOut> | TOut) | undefined;
  private runningHandlers = 0;
  private lastReceivedAt = performance.now();
  private lastPingAt = performance.now();
  private closeReason: CloseReason | undefined;
  private resolveClosed!: (reason: CloseReason) => void;

  /** Used by the transports once the handshake has produced `keys`; not for direct use. */
  constructor(
    private readonly socket: Duplex,
    keys: SessionKeys,
    options: ChannelOptions<TIn>,
  ) {
    super();
    this.opts = resolveChannelOptions(options, options.logger ?? silentLogger);
    this.helperId = keys.helperId;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.reader = authenticatedFrameReader(this.opts.maxFrameBytes);
    const sealer = new FrameSealer(keys.sendKey, keys.sendDirection);
    this.writer = new FrameWriter(socket, sealer, this.opts.maxFrameBytes, this.opts.maxQueuedBytes);
    this.pending = new PendingRequests(this.opts.maxPendingRequests);
    this.opener = new FrameOpener(keys.receiveKey, keys.receiveDirection);
    this.bucket = new TokenBucket(this.opts.rateLimit.framesPerSecond, this.opts.rateLimit.burst);

    const tickMs = Math.max(5, Math.floor(Math.min(this.opts.pingIntervalMs, this.opts.idleTimeoutMs) / 4));
    this.keepAlive = setInterval(this.onTick, tickMs).unref();
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onSocketClose);
    socket.on('error', this.onError);
    if (keys.leftover.length > 0) this.onData(keys.leftover);
    socket.resume();
  }

  get isOpen(): boolean {
    return this.closeReason === undefined;
  }

  /** Whether this channel runs over `socket` (lets a server tell its channels' sockets apart). */
  usesSocket(socket: Duplex): boolean {
    return this.socket === socket;
  }

  /** Requests sent by this side that still await a response. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /**
   * Sends a one-way message. Returns false when the socket's buffer is above its high-water mark
   * (await `drained()` before sending more); throws BackpressureError, without queuing anything,
   * when the queued bytes would exceed `maxQueuedBytes`; throws MessageTooLargeError or
   * ChannelClosedError likewise. A body that is not plain data throws a TypeError.
   */
  send(body: TOut): boolean {
    this.assertOpen();
    return this.writer.write(Kind.message, 0, body);
  }

  /**
   * Sends a request and resolves with the peer's response body (validated). Rejects with
   * RequestError (the peer's error-response), RequestTimeoutError, TooManyRequestsError,
   * BackpressureError, MessageTooLargeError or ChannelClosedError. A response after the timeout is
   * ignored.
   */
  request(body: TOut, options: { timeoutMs?: number } = {}): Promise<TIn> {
    if (this.closeReason) return Promise.reject(new ChannelClosedError(this.closeReason));
    return this.pending.open(options.timeoutMs ?? this.opts.requestTimeoutMs, (id) =>
      this.writer.write(Kind.request, id, body),
    );
  }

  /**
   * Answers the peer's requests. A porthole error with a reply code thrown (or rejected) by the
   * handler becomes an error-response with that code (a RequestError, a validator's FieldError as
   * `bad_request`); anything else `internal`, with a generic message (the error itself is logged
   * here, not sent).
   */
  onRequest(handler: (body: TIn) => Promise<TOut> | TOut): void {
    this.requestHandler = handler;
    for (const { id, body } of this.heldRequests.splice(0)) this.runHandler(id, body);
  }

  /** Receives the peer's one-way messages. An exception in the handler is logged, not fatal. */
  onMessage(handler: (body: TIn) => void): void {
    this.messageHandler = handler;
    for (const body of this.heldMessages.splice(0)) this.deliverMessage(body);
  }

  /** Resolves when the socket's buffer has drained (at once if it is not full). */
  drained(): Promise<void> {
    if (this.closeReason) return Promise.reject(new ChannelClosedError(this.closeReason));
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (reason: CloseReason): void => {
        this.socket.off('drain', onDrain);
        reject(new ChannelClosedError(reason));
      };
      this.socket.once('drain', onDrain);
      this.once('close', onClose);
    });
  }

  /** Closes gracefully: queued frames are flushed, pending requests reject with ChannelClosedError. */
  close(): void {
    this.shutDown({ code: 'closed' }, 'flush');
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closeReason) return;
    try {
      this.reader.push(chunk, this.onFrame);
    } catch (err) {
      this.rejectPeer(err);
    }
  };

  private readonly onFrame = (frame: Buffer): boolean => {
    if (this.closeReason) return false;
    if (!this.bucket.take()) {
      this.shutDown({ code: 'rate_limited', detail: 'incoming frame rate exceeded' }, 'destroy');
      return false;
    }
    const payload = this.opener.open(frame);
    // Only an authenticated frame counts as life: bytes of a frame that never completes (a peer
    // dribbling one byte a second) must not hold the connection open past the idle timeout.
    this.lastReceivedAt = performance.now();
    const envelope = readEnvelope(decodePayload(payload));
    switch (envelope.kind) {
      case Kind.message:
        this.receiveMessage(this.validateBody(envelope.body));
        break;
      case Kind.request:
        this.receiveRequest(envelope.id, envelope.body);
        break;
      case Kind.response:
      case Kind.errorResponse:
        this.receiveResponse(envelope.kind, envelope.id, envelope.body);
        break;
      case Kind.ping:
        this.writeInternal(Kind.pong, 0, null);
        break;
      case Kind.pong:
        break;
    }
    return this.closeReason === undefined;
  };

  private receiveMessage(body: TIn): void {
    if (this.messageHandler) this.deliverMessage(body);
    else this.hold(() => this.heldMessages.push(body));
  }

  private receiveRequest(id: number, raw: unknown): void {
    let body: TIn;
    try {
      body = this.opts.validate(raw);
    } catch (err) {
      // Answer first so the peer learns which field was wrong, then close as for any bad body,
      // flushing so the answer leaves before the connection does.
      this.writeInternal(Kind.errorResponse, id, errorBodyOf(err));
      this.shutDown({ code: 'bad_frame', detail: `invalid_body: ${fieldOf(err)}` }, 'flush');
      return;
    }
    if (this.requestHandler) {
      if (this.runningHandlers >= this.opts.maxConcurrentHandlers) {
        this.shutDown({ code: 'rate_limited', detail: 'too many concurrent requests' }, 'destroy');
        return;
      }
      this.runHandler(id, body);
    } else {
      this.hold(() => this.heldRequests.push({ id, body }));
    }
  }

  private receiveResponse(kind: Kind, id: number, raw: unknown): void {
    // Both are checked before the lookup: a late answer must still be well-formed.
    if (kind === Kind.errorResponse) {
      const { code, message, retryAfterMs } = readErrorBody(raw);
      this.takeWaiter(id)?.reject(
        new RequestError(code, message, retryAfterMs === undefined ? undefined : { retryAfterMs }),
      );
    } else {
      const body = this.validateBody(raw);
      this.takeWaiter(id)?.resolve(body);
    }
  }

  private takeWaiter(id: number): ReturnType<PendingRequests<TIn>['take']> {
    const waiter = this.pending.take(id);
    if (!waiter) {
      this.opts.logger.debug({ helperId: this.helperId, id }, 'ipc: response to no pending request ignored');
    }
    return waiter;
  }

  private hold(push: () => void): void {
    if (
      this.heldMessages.length + this.heldRequests.length + this.runningHandlers >=
      this.opts.maxConcurrentHandlers
    ) {
      this.shutDown({ code: 'backpressure', detail: 'too many messages held for a handler' }, 'destroy');
      return;
    }
    push();
  }

  private deliverMessage(body: TIn): void {
    try {
      this.messageHandler?.(body);
    } catch (err) {
      this.opts.logger.warn(
        { helperId: this.helperId, error: describeError(err) },
        'ipc: message handler threw',
      );
    }
  }

  private runHandler(id: number, body: TIn): void {
    const handler = this.requestHandler;
    if (!handler) return;
    this.runningHandlers += 1;
    new Promise<TOut>((resolve) => resolve(handler(body)))
      .then(
        (result) => {
          try {
            this.writeInternal(Kind.response, id, result);
          } catch (err) {
            if (!(err instanceof MessageTooLargeError) && !(err instanceof TypeError)) throw err;
            this.logHandlerError(id, err);
            this.writeInternal(Kind.errorResponse, id, { code: 'internal', message: 'internal error' });
          }
        },
        (err: unknown) => {
          // A coded failure is the handler's answer; anything else is a fault worth a log line.
          if (!(err instanceof PortholeError && isReplyErrorCode(err.code))) this.logHandlerError(id, err);
          this.writeInternal(Kind.errorResponse, id, errorBodyOf(err));
        },
      )
      .catch((err: unknown) => this.rejectPeer(err))
      .finally(() => (this.runningHandlers -= 1));
  }

  private logHandlerError(id: number, err: unknown): void {
    this.opts.logger.warn(
      { helperId: this.helperId, id, error: describeError(err) },
      'ipc: request handler failed',
    );
  }

  private validateBody(raw: unknown): TIn {
    try {
      return this.opts.validate(raw);
    } catch (err) {
      throw new FrameError('invalid_body', fieldOf(err));
    }
  }

  /** Frames this side owes the peer (pongs, responses): failing to queue them closes the channel. */
  private writeInternal(kind: Kind, id: number, body: unknown): void {
    if (this.closeReason) return;
    try {
      this.writer.write(kind, id, body);
    } catch (err) {
      if (err instanceof BackpressureError) {
        this.shutDown({ code: 'backpressure', detail: 'peer is not reading' }, 'destroy');
        return;
      }
      throw err;
    }
  }

  private readonly onTick = (): void => {
    const now = performance.now();
    const quietMs = now - this.lastReceivedAt;
    if (quietMs >= this.opts.idleTimeoutMs) {
      this.shutDown(
        { code: 'idle_timeout', detail: `nothing received for ${Math.round(quietMs)} ms` },
        'destroy',
      );
    } else if (quietMs >= this.opts.pingIntervalMs && now - this.lastPingAt >= this.opts.pingIntervalMs) {
      this.lastPingAt = now;
      this.writeInternal(Kind.ping, 0, null);
    }
  };

  private readonly onEnd = (): void => {
    if (this.reader.hasPartialFrame) {
      this.shutDown({ code: 'bad_frame', detail: 'truncated_frame' }, 'destroy');
    } else {
      this.shutDown({ code: 'peer_closed' }, 'flush');
    }
  };

  private readonly onSocketClose = (): void => this.shutDown({ code: 'peer_closed' }, 'destroy');

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    // A reset or broken pipe is how a peer that died (rather than closed) shows up.
    const peerGone = err.code === 'ECONNRESET' || err.code === 'EPIPE';
    this.shutDown(
      { code: peerGone ? 'peer_closed' : 'socket_error', detail: err.code ?? err.name },
      'destroy',
    );
  };

  /** Closes for anything the peer got wrong; only FrameErrors are expected here. */
  private rejectPeer(err: unknown): void {
    if (err instanceof FrameError) {
      this.shutDown({ code: 'bad_frame', detail: err.message }, 'destroy');
    } else {
      this.opts.logger.warn({ helperId: this.helperId, error: describeError(err) }, 'ipc: unexpected error');
      this.shutDown({ code: 'bad_frame', detail: 'internal error' }, 'destroy');
    }
  }

  private shutDown(reason: CloseReason, how: 'flush' | 'destroy'): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    clearInterval(this.keepAlive);
    const expected = reason.code === 'closed' || reason.code === 'peer_closed';
    const log = expected ? this.opts.logger.info : this.opts.logger.warn;
    log.call(this.opts.logger, { helperId: this.helperId, ...reason }, 'ipc: channel closed');
    this.pending.rejectAll(new ChannelClosedError(reason));
    this.heldMessages.length = 0;
    this.heldRequests.length = 0;
    if (how === 'flush') {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    } else {
      this.socket.destroy();
    }
    this.resolveClosed(reason);
    process.nextTick(() => this.emit('close', reason));
  }

  private assertOpen(): void {
    if (this.closeReason) throw new ChannelClosedError(this.closeReason);
  }
}

/** The field a validator named, never the value: bodies may carry things that do not belong in logs. */
function fieldOf(err: unknown): string {
  return err instanceof FieldError ? `field '${err.field}'` : 'body';
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : typeof err;
}
