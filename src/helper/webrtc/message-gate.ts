/**
 * The door every DataChannel message from the viewer passes through: the protocol validator, then a
 * rate limit per message type, so a flood of one type cannot starve another. A malformed message or
 * one over its type's limit is dropped, never thrown; the log gets one line per kind of problem per
 * interval (with how many were dropped) so a hostile viewer cannot turn the helper's log into its own
 * flood. Validating first costs one JSON.parse per message even in a flood; the transport bounds that
 * (≤ 256 KiB a message, at SCTP's pace). The input channel adds its own rules on top (input-gate.ts).
 */
import { parseDataChannelText, ProtocolError } from '../../protocol/index.js';
import { type Logger } from '../../log/logger.js';

/** A token bucket's settings: `perSecond` tokens come back each second, up to `burst`. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {
    this.tokens = limit.burst;
    this.refilledAt = now();
  }

  /** Takes `cost` tokens (at most a burst's worth) if the bucket holds them. */
  take(cost = 1): boolean {
    const c = Math.min(cost, this.limit.burst);
    this.refill();
    if (this.tokens < c) return false;
    this.tokens -= c;
    return true;
  }

  /** How long until the bucket holds `cost` tokens; 0 when it does now. */
  msUntil(cost = 1): number {
    const c = Math.min(cost, this.limit.burst);
    this.refill();
    return this.tokens >= c ? 0 : Math.ceil(((c - this.tokens) / this.limit.perSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + ((t - this.refilledAt) / 1000) * this.limit.perSecond,
    );
    this.refilledAt = t;
  }
}

/** Logs each kind of problem at most once per interval, with how many went unlogged since. */
export class DropLog {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Pick<Logger, 'warn'>,
    private readonly channel: string,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  report(kind: string, fields: object, msg: string): void {
    const t = this.now();
    const entry = this.lastLogged.get(kind);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    // Bounded: kinds are field paths and reasons from the validator, but cap them all the same.
    if (!entry && this.lastLogged.size >= 256) this.lastLogged.clear();
    this.log.warn({ channel: this.channel, ...fields, droppedSinceLastLog: entry?.suppressed ?? 0 }, msg);
    this.lastLogged.set(kind, { at: t, suppressed: 0 });
  }
}

export interface MessageGateOptions<T extends { type: string }> {
  /** The channel label, for log lines. */
  channel: string;
  parse: (value: unknown) => T;
  log: Pick<Logger, 'warn'>;
  /** A limit per message type; types without one share `default`'s bucket. */
  limits: { default: RateLimit } & Partial<Record<T['type'], RateLimit>>;
  /** Shortest time between two log lines about the same kind of problem. */
  logIntervalMs?: number;
  now?: () => number;
}

/** Every message received is counted once. */
export interface GateCounters {
  /** Passed on as it came. */
  accepted: number;
  invalid: number;
  /** Dropped by a limit. */
  rateLimited: number;
  /** Merged into a message passed on a little later (pointer moves, wheel deltas). */
  coalesced: number;
}

export interface MessageGate<T extends { type: string }> {
  /** Parses and validates; undefined (counted and logged) when the message is malformed. */
  parse(raw: unknown): T | undefined;
  /** Takes `cost` tokens from `type`'s limit; false when it does not have them (nothing counted). */
  take(type: T['type'], cost?: number): boolean;
  /** How long until `type`'s limit has `cost` tokens again. */
  msUntil(type: T['type'], cost?: number): number;
  /** Counts and logs a message of `type` dropped by its limit (or by `reason`). */
  reject(type: T['type'], reason?: string): void;
  /** `parse`, then one token of the message's type: the message, or undefined when it was dropped. */
  admit(raw: unknown): T | undefined;
  readonly counters: GateCounters;
  readonly dropLog: DropLog;
}

/**
 * Control messages are few: a display switch, a keyframe, a rate now and then, one heartbeat a second.
 * Each Ctrl+Alt+Del becomes a request to the service, which accepts one per session every 5 s: more
 * than one a second is never a person.
 */
export const DEFAULT_CONTROL_LIMITS = {
  default: { perSecond: 50, burst: 100 },
  heartbeat: { perSecond: 10, burst: 20 },
  ctrl_alt_del: { perSecond: 1, burst: 2 },
  // Each switch may start or stop a capture process: a person clicking, not a loop.
  audio: { perSecond: 2, burst: 5 },
} as const satisfies Record<string, RateLimit>;
const DEFAULT_LOG_INTERVAL_MS = 10_000;

export function createMessageGate<T extends { type: string }>(opts: MessageGateOptions<T>): MessageGate<T> {
  const now = opts.now ?? (() => performance.now());
  const counters: GateCounters = { accepted: 0, invalid: 0, rateLimited: 0, coalesced: 0 };
  const dropLog = new DropLog(opts.log, opts.channel, opts.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS, now);
  const limits = opts.limits as Record<string, RateLimit | undefined> & { default: RateLimit };
  const buckets = new Map<string, TokenBucket>();
  // Only the types that have a limit of their own get a bucket: the map is bounded by the options.
  const bucket = (type: string): TokenBucket => {
    const key = Object.hasOwn(limits, type) && type !== 'default' ? type : 'default';
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = new TokenBucket(limits[key] ?? limits.default, now)));
    return b;
  };

  const gate: MessageGate<T> = {
    counters,
    dropLog,
    parse(raw) {
      try {
        return parseDataChannelText(raw, opts.parse);
      } catch (err) {
        counters.invalid++;
        if (err instanceof ProtocolError) {
          dropLog.report(
            `invalid:${err.field}:${err.reason}`,
            { field: err.field, reason: err.reason },
            'bad message dropped',
          );
        } else {
          dropLog.report('invalid:other', { err: String(err) }, 'bad message dropped');
        }
        return undefined;
      }
    },
    take: (type, cost) => bucket(type).take(cost),
    msUntil: (type, cost) => bucket(type).msUntil(cost),
    reject(type, reason) {
      counters.rateLimited++;
      const limit = limits[type] ?? limits.default;
      dropLog.report(
        `rate:${type}:${reason ?? ''}`,
        { type, ...(reason ? { reason } : { perSecond: limit.perSecond, burst: limit.burst }) },
        'DataChannel flood: messages dropped',
      );
    },
    admit(raw) {
      const msg = gate.parse(raw);
      if (!msg) return undefined;
      if (!gate.take(msg.type)) {
        gate.reject(msg.type);
        return undefined;
      }
      counters.accepted++;
      return msg;
    },
  };
  return gate;
}
