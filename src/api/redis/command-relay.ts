/**
 * Commands for an agent held by another instance. The requester publishes `cmd` on the owner's
 * channel and waits for `reply` on its own, keyed by a request id; the owner runs the command on its
 * local AgentConnection (same payload fitting, same deadline) and publishes the outcome. Viewers see
 * the same results and error codes as for a local agent:
 * - the owner is not listening (PUBLISH reached no one: it died and its key has not expired yet) →
 *   409 `device_offline`, and the stale key is removed;
 * - no reply within the command timeout plus a margin (the owner died mid-request) → 504 `timeout`;
 *   a `waiting` (consent prompt) moves that deadline once, as it does locally;
 * - Redis unreachable → 503 `routing_unavailable` with Retry-After.
 * Each request id is answered at most once: the requester settles it once and ignores later replies,
 * and the owner runs a request id once however many times it arrives.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../log/logger.js';
import {
  addPeerResult,
  listSessionsResult,
  startDesktopResult,
  stopDesktopResult,
  type ApiCommandType,
  type ResultByType,
} from '../../protocol/api.js';
import { ProtocolError, type Guard } from '../../protocol/validate.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import { HttpError } from '../http-json.js';
import type { CommandPayload } from '../agent-connection.js';
import type { FleetHandlers } from './fleet.js';
import { instanceChannel, type CmdMessage, type RelayMessage, type ReplyMessage } from './relay-messages.js';

/** How much longer than the owner's own deadline the requester waits, for the owner's 504 to arrive. */
export const RELAY_MARGIN_MS = 2000;
/** Request ids the owner remembers, to run a duplicated `cmd` once. */
const REMEMBERED_REQUESTS = 10_000;
export const ROUTING_RETRY_AFTER_S = 2;

const resultGuards: { [T in ApiCommandType]: Guard<ResultByType[T]> } = {
  list_sessions: listSessionsResult,
  start_desktop: startDesktopResult,
  stop_desktop: stopDesktopResult,
  add_peer: addPeerResult,
};

interface PendingRequest {
  type: ApiCommandType;
  deviceId: string;
  resolve(result: unknown): void;
  reject(err: HttpError): void;
  timer: TimerHandle;
  waited: boolean;
}

export interface CommandRelayOptions {
  instanceId: string;
  /** The connection that publishes (never the subscribed one). */
  redis: Redis;
  commandTimeoutMs: number;
  log: Logger;
  timers?: Timers;
  /** The owner named by the key is not listening: forget its claim. */
  onOwnerGone(deviceId: string, owner: string): void;
}

export function routingUnavailable(): HttpError {
  return new HttpError(
    503,
    'routing_unavailable',
    'the API cannot reach its routing service (Redis) right now; try again shortly',
    undefined,
    { 'retry-after': String(ROUTING_RETRY_AFTER_S) },
  );
}

export class CommandRelay {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly seen = new Set<string>();
  private seq = 0;
  private handlers: FleetHandlers | undefined;
  private readonly timers: Timers;

  constructor(private readonly o: CommandRelayOptions) {
    this.timers = o.timers ?? realTimers;
  }

  attach(handlers: FleetHandlers): void {
    this.handlers = handlers;
  }

  /** Requests in flight from this instance (for tests and status). */
  get inFlight(): number {
    return this.pending.size;
  }

  request<T extends ApiCommandType>(
    owner: string,
    deviceId: string,
    type: T,
    payload: CommandPayload<T>,
  ): Promise<ResultByType[T]> {
    const rid = `${this.o.instanceId}-${++this.seq}`;
    const msg: CmdMessage = { t: 'cmd', rid, from: this.o.instanceId, deviceId, type, payload };
    return new Promise<ResultByType[T]>((resolve, reject) => {
      const timer = this.deadline(rid, this.o.commandTimeoutMs + RELAY_MARGIN_MS);
      this.pending.set(rid, {
        type,
        deviceId,
        resolve: resolve as (r: unknown) => void,
        reject,
        timer,
        waited: false,
      });
      this.o.redis.publish(instanceChannel(owner), JSON.stringify(msg)).then(
        (receivers) => {
          if (receivers > 0) return;
          this.o.log.warn({ deviceId, owner }, 'the instance holding the agent is gone');
          this.o.onOwnerGone(deviceId, owner);
          this.settle(
            rid,
            new HttpError(
              409,
              'device_offline',
              `device '${deviceId}' is not connected to the API right now`,
            ),
          );
        },
        (err: unknown) => {
          this.o.log.warn({ deviceId, err: errorMessage(err) }, 'cannot relay a command: Redis unreachable');
          this.settle(rid, routingUnavailable());
        },
      );
    });
  }

  private deadline(rid: string, ms: number): TimerHandle {
    return this.timers.setTimeout(() => {
      const p = this.pending.get(rid);
      if (!p) return;
      this.o.log.warn({ deviceId: p.deviceId, rid, command: p.type }, 'relayed command got no reply in time');
      const what = p.waited ? ' (after waiting for the consent prompt)' : '';
      this.settle(
        rid,
        new HttpError(504, 'timeout', `the device did not answer ${p.type} within ${ms} ms${what}`),
      );
    }, ms);
  }

  /** A message on this instance's channel. */
  onMessage(msg: RelayMessage): void {
    switch (msg.t) {
      case 'cmd':
        void this.run(msg);
        return;
      case 'waiting': {
        const p = this.pending.get(msg.rid);
        if (!p || p.waited || p.type !== 'start_desktop') return;
        p.waited = true;
        this.timers.clearTimeout(p.timer);
        p.timer = this.deadline(msg.rid, msg.timeoutMs + this.o.commandTimeoutMs + RELAY_MARGIN_MS);
        return;
      }
      case 'reply':
        this.onReply(msg);
        return;
      case 'takeover':
        return;
    }
  }

  private onReply(msg: ReplyMessage): void {
    const p = this.pending.get(msg.rid);
    if (!p) {
      this.o.log.debug({ rid: msg.rid }, 'relayed reply to no pending request (late or repeated)');
      return;
    }
    if (!msg.ok && msg.error) {
      const { status, code, message, retryAfter } = msg.error;
      const headers = retryAfter !== undefined ? { 'retry-after': retryAfter } : undefined;
      return this.settle(msg.rid, new HttpError(status, code, message, undefined, headers));
    }
    try {
      this.settle(msg.rid, undefined, resultGuards[p.type](msg.result, 'result'));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.settle(
        msg.rid,
        new HttpError(502, 'bad_agent_reply', `the device sent an invalid reply: ${err.message}`),
      );
    }
  }

  private settle(rid: string, err: HttpError | undefined, result?: unknown): void {
    const p = this.pending.get(rid);
    if (!p) return;
    this.pending.delete(rid);
    this.timers.clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(result);
  }

  /** The owner's side: runs a relayed command once and publishes its outcome to the requester. */
  private async run(msg: CmdMessage): Promise<void> {
    if (this.seen.has(msg.rid)) {
      this.o.log.warn({ rid: msg.rid }, 'ignored a relayed command already run');
      return;
    }
    this.seen.add(msg.rid);
    if (this.seen.size > REMEMBERED_REQUESTS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const to = instanceChannel(msg.from);
    const send = (m: RelayMessage) =>
      this.o.redis.publish(to, JSON.stringify(m)).catch((err: unknown) => {
        this.o.log.warn({ rid: msg.rid, err: errorMessage(err) }, 'cannot send a relayed reply');
      });
    let reply: ReplyMessage;
    try {
      if (!this.handlers) throw new HttpError(503, 'routing_unavailable', 'this API instance is stopping');
      const result = await this.handlers.onCommand({
        deviceId: msg.deviceId,
        type: msg.type,
        payload: msg.payload,
        onWaiting: (timeoutMs) => void send({ t: 'waiting', rid: msg.rid, timeoutMs }),
      });
      reply = { t: 'reply', rid: msg.rid, ok: true, result };
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, 'internal', 'the instance holding the agent failed');
      if (!(err instanceof HttpError)) {
        this.o.log.error({ rid: msg.rid, err: errorMessage(err) }, 'relayed command failed unexpectedly');
      }
      const retryAfter = e.headers['retry-after'];
      reply = {
        t: 'reply',
        rid: msg.rid,
        ok: false,
        error: {
          status: e.status,
          code: e.code,
          message: e.message.slice(0, 2000),
          ...(retryAfter !== undefined && /^\d{1,16}$/.test(retryAfter) ? { retryAfter } : {}),
        },
      };
    }
    await send(reply);
  }

  /** Fails every request still waiting (the instance is stopping). */
  close(): void {
    for (const rid of [...this.pending.keys()]) this.settle(rid, routingUnavailable());
    this.handlers = undefined;
  }
}
