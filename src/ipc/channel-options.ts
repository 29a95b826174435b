/** The knobs of a channel, their defaults, and their checking. Every bound has a default. */
import { DEFAULT_MAX_FRAME_BYTES, FRAME_OVERHEAD } from './frame.js';
import { type Logger } from '../log/logger.js';

export interface RateLimit {
  /** Sustained frames per second accepted from the peer. */
  framesPerSecond: number;
  /** Frames the peer may send at once before the sustained rate applies. */
  burst: number;
}

export interface ChannelOptions<TIn> {
  /** Checks every incoming body (message, request, response); throws on an invalid one. */
  validate: (value: unknown) => TIn;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Largest frame accepted or sent, length field and tag included. */
  maxFrameBytes?: number;
  /** Close when nothing authenticated arrived for this long. */
  idleTimeoutMs?: number;
  /** Ping the peer when it has been quiet for this long. */
  pingIntervalMs?: number;
  /** Incoming frames beyond this rate close the connection. */
  rateLimit?: RateLimit;
  /** `request()` calls awaiting a response at once. */
  maxPendingRequests?: number;
  /** The peer's requests being handled at once (plus those held until a handler is registered). */
  maxConcurrentHandlers?: number;
  /** Default timeout of `request()`. */
  requestTimeoutMs?: number;
  /** Bytes queued for the socket beyond which `send()` / `request()` throw BackpressureError. */
  maxQueuedBytes?: number;
}

export const CHANNEL_DEFAULTS = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  idleTimeoutMs: 15_000,
  pingIntervalMs: 5_000,
  rateLimit: { framesPerSecond: 2_000, burst: 4_000 },
  maxPendingRequests: 256,
  maxConcurrentHandlers: 256,
  requestTimeoutMs: 10_000,
  maxQueuedBytes: 8 * 1024 * 1024,
} as const;

export type ResolvedChannelOptions<TIn> = Required<Omit<ChannelOptions<TIn>, 'logger'>> & {
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
};

export function resolveChannelOptions<TIn>(
  opts: ChannelOptions<TIn>,
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>,
): ResolvedChannelOptions<TIn> {
  if (typeof opts.validate !== 'function') throw new TypeError('validate must be a function');
  const o = { ...CHANNEL_DEFAULTS, ...definedOnly(opts), logger } as ResolvedChannelOptions<TIn>;
  positiveInteger('maxFrameBytes', o.maxFrameBytes, FRAME_OVERHEAD + 1);
  positiveInteger('idleTimeoutMs', o.idleTimeoutMs);
  positiveInteger('pingIntervalMs', o.pingIntervalMs);
  positiveInteger('maxPendingRequests', o.maxPendingRequests);
  positiveInteger('maxConcurrentHandlers', o.maxConcurrentHandlers);
  positiveInteger('requestTimeoutMs', o.requestTimeoutMs);
  positiveInteger('maxQueuedBytes', o.maxQueuedBytes);
  if (!(o.rateLimit.framesPerSecond > 0) || !(o.rateLimit.burst >= 1)) {
    throw new RangeError('rateLimit needs framesPerSecond > 0 and burst >= 1');
  }
  return o;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInteger(name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}`);
}
