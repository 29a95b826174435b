/**
 * The door every DataChannel message from the viewer passes through: a per-channel rate limit, then
 * the protocol validator. A flood or a malformed message is dropped, never thrown; the log gets one
 * line per kind of problem per interval (with how many were dropped) so a hostile viewer cannot turn
 * the helper's log into its own flood.
 */
import { parseDataChannelText, ProtocolError } from '../../protocol/index.js';
import { type Logger } from '../../log/logger.js';

export interface MessageGateOptions<T> {
  /** The channel label, for log lines. */
  channel: string;
  parse: (value: unknown) => T;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** Messages accepted per second; a burst up to this many is allowed, then the rest is dropped. */
  maxPerSecond?: number;
  /** Shortest time between two log lines about the same kind of problem. */
  logIntervalMs?: number;
  now?: () => number;
}

export interface GateCounters {
  accepted: number;
  invalid: number;
  rateLimited: number;
}

export interface MessageGate<T> {
  /** Returns the validated message, or undefined if it was dropped. */
  admit(raw: unknown): T | undefined;
  readonly counters: Readonly<GateCounters>;
}

export const DEFAULT_MAX_MESSAGES_PER_SECOND = 1000;
const DEFAULT_LOG_INTERVAL_MS = 10_000;

export function createMessageGate<T>(opts: MessageGateOptions<T>): MessageGate<T> {
  const rate = opts.maxPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND;
  const logInterval = opts.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
  const now = opts.now ?? (() => performance.now());
  const counters: GateCounters = { accepted: 0, invalid: 0, rateLimited: 0 };
  // Token bucket: refills at `rate` per second up to `rate` tokens.
  let tokens = rate;
  let refilledAt = now();
  const lastLogged = new Map<string, { at: number; suppressed: number }>();

  function report(kind: string, fields: object, msg: string): void {
    const t = now();
    const entry = lastLogged.get(kind);
    if (entry && t - entry.at < logInterval) {
      entry.suppressed++;
      return;
    }
    // Bounded: kinds are field paths and reasons from the validator, but cap them all the same.
    if (!entry && lastLogged.size >= 256) lastLogged.clear();
    opts.log.warn({ channel: opts.channel, ...fields, droppedSinceLastLog: entry?.suppressed ?? 0 }, msg);
    lastLogged.set(kind, { at: t, suppressed: 0 });
  }

  function takeToken(): boolean {
    const t = now();
    tokens = Math.min(rate, tokens + ((t - refilledAt) / 1000) * rate);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  return {
    counters,
    admit(raw) {
      if (!takeToken()) {
        counters.rateLimited++;
        report('rate', { maxPerSecond: rate }, 'DataChannel flood: messages dropped');
        return undefined;
      }
      try {
        const msg = parseDataChannelText(raw, opts.parse);
        counters.accepted++;
        return msg;
      } catch (err) {
        counters.invalid++;
        if (err instanceof ProtocolError) {
          report(
            `invalid:${err.field}:${err.reason}`,
            { field: err.field, reason: err.reason },
            'bad message dropped',
          );
        } else {
          report('invalid:other', { err: String(err) }, 'bad message dropped');
        }
        return undefined;
      }
    },
  };
}
