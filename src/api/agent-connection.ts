/**
 * One connected agent (a `porthole service`): sends commands `{id, type, payload}` and settles each
 * with the correlated reply, validated by the protocol's guards. Every failure becomes an HttpError the
 * viewer API can pass on: the agent's own error code, 502 for a reply that fails validation, 504 for
 * silence past the command timeout, 502 if the agent goes away first.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import {
  agentReply,
  commandWaiting,
  addPeerResult,
  listSessionsResult,
  salvageCommandId,
  startDesktopResult,
  stopDesktopResult,
  type ApiCommand,
  type ApiCommandType,
  type CommandWaiting,
  type ResultByType,
} from '../protocol/api.js';
import { ProtocolError, type Guard } from '../protocol/validate.js';
import {
  assertCommandSupported,
  MissingFeatureError,
  payloadForPeer,
  type ApiLinkPeer,
} from '../protocol/api-version.js';
import { agentEventMessage, AuditEventBudget, type AgentEventMessage } from '../protocol/audit-event.js';
import { agentErrorStatus, HttpError } from './http-json.js';
import { realTimers, type TimerHandle, type Timers } from '../time/timers.js';

const resultGuards: { [T in ApiCommandType]: Guard<ResultByType[T]> } = {
  list_sessions: listSessionsResult,
  start_desktop: startDesktopResult,
  stop_desktop: stopDesktopResult,
  add_peer: addPeerResult,
};

interface PendingCommand {
  type: ApiCommandType;
  resolve(result: unknown): void;
  reject(err: HttpError): void;
  timer: TimerHandle;
  /** The agent said it waits for a consent answer (once per command: the deadline moves once). */
  waited?: boolean;
  /** Told when the deadline moves for consent (a relayed command's requester waits longer too). */
  onWaiting?: ((timeoutMs: number) => void) | undefined;
}

export type CommandPayload<T extends ApiCommandType> = Extract<ApiCommand, { type: T }>['payload'];

export class AgentConnection {
  /** Last time the agent showed signs of life (a message or a pong), ms since the epoch. */
  lastSeen = Date.now();
  /** Cleared by the heartbeat before each ping; a connection still false at the next tick is dead. */
  alive = true;
  /** Why the API closed this connection, for the audit line (`heartbeat_timeout`, `device_removed`). */
  closeReason: string | undefined;
  private readonly pending = new Map<string, PendingCommand>();
  private seq = 0;
  private readonly idPrefix = randomBytes(4).toString('hex');
  private readonly eventBudget: AuditEventBudget;

  constructor(
    readonly ws: WebSocket,
    readonly deviceId: string,
    readonly remote: string,
    /** What the agent announced on its upgrade: commands carry only the fields it understands. */
    readonly peer: ApiLinkPeer,
    private readonly opts: {
      commandTimeoutMs: number;
      log: Logger;
      /** An audit event the agent reported (validated, within this connection's budget). */
      onEvent?: (msg: AgentEventMessage) => void;
      now?: () => number;
      /** The command deadlines' timers (default: the real ones). */
      timers?: Timers;
    },
  ) {
    this.eventBudget = new AuditEventBudget(opts.now ?? Date.now);
    ws.on('message', (data, isBinary) => {
      this.markAlive();
      this.onMessage(isBinary ? null : data.toString());
    });
    ws.on('pong', () => this.markAlive());
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one command and resolves with its validated result. Fields beyond what the agent announced
   * are left out, or the command is refused with 409 `agent_outdated` when it cannot go without one;
   * so is a command the agent did not announce (COMMAND_FEATURES).
   */
  command<T extends ApiCommandType>(
    type: T,
    payload: CommandPayload<T>,
    hooks: { onWaiting?: (timeoutMs: number) => void } = {},
  ): Promise<ResultByType[T]> {
    let fitted: CommandPayload<T>;
    try {
      assertCommandSupported(type, this.peer);
      fitted = payloadForPeer(type, payload, this.peer);
    } catch (err) {
      if (!(err instanceof MissingFeatureError)) throw err;
      return Promise.reject(new HttpError(409, err.code, err.message));
    }
    const id = `${this.idPrefix}-${++this.seq}`;
    return new Promise<ResultByType[T]>((resolve, reject) => {
      const timer = this.deadline(id, type, this.opts.commandTimeoutMs);
      this.pending.set(id, {
        type,
        resolve: resolve as (r: unknown) => void,
        reject,
        timer,
        onWaiting: hooks.onWaiting,
      });
      this.ws.send(JSON.stringify({ id, type, payload: fitted }), (err) => {
        if (err) this.settle(id, new HttpError(502, 'agent_disconnected', 'could not send to the device'));
      });
    });
  }

  /** Fails command `id` with 504 `timeout` after `ms`. */
  private deadline(id: string, type: ApiCommandType, ms: number): TimerHandle {
    return (this.opts.timers ?? realTimers).setTimeout(() => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      this.opts.log.warn({ deviceId: this.deviceId, id, command: type }, 'agent did not answer in time');
      const what = p.waited ? ' (after waiting for the consent prompt)' : '';
      p.reject(new HttpError(504, 'timeout', `the device did not answer ${type} within ${ms} ms${what}`));
    }, ms);
  }

  /**
   * The agent waits for the person at the machine (a consent prompt of at most `timeoutMs`): the
   * command's deadline becomes that plus the command timeout from now. Only for start_desktop, and
   * once per command, so an agent cannot keep a request open forever.
   */
  private onWaiting(raw: unknown): void {
    let msg: CommandWaiting;
    try {
      msg = commandWaiting(raw, '');
    } catch (err) {
      const why = err instanceof ProtocolError ? err.message : String(err);
      this.opts.log.warn({ deviceId: this.deviceId, error: why }, 'ignored an invalid waiting message');
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p || p.waited || p.type !== 'start_desktop') return;
    p.waited = true;
    (this.opts.timers ?? realTimers).clearTimeout(p.timer);
    p.timer = this.deadline(msg.id, p.type, msg.timeoutMs + this.opts.commandTimeoutMs);
    p.onWaiting?.(msg.timeoutMs);
    this.opts.log.info(
      { deviceId: this.deviceId, id: msg.id, timeoutMs: msg.timeoutMs },
      'waiting for consent',
    );
  }

  /** An agent's audit event: validated, limited per connection, then handed to the audit log. */
  private onEvent(raw: unknown): void {
    const { log } = this.opts;
    let msg: AgentEventMessage;
    try {
      msg = agentEventMessage(raw, '');
    } catch (err) {
      const why = err instanceof ProtocolError ? err.message : String(err);
      log.warn({ deviceId: this.deviceId, error: why }, 'ignored an invalid event from the agent');
      return;
    }
    if (!this.eventBudget.admit()) {
      if (this.eventBudget.droppedThisWindow === 1) {
        log.warn(
          { deviceId: this.deviceId },
          'agent events over the budget: dropping the rest of this minute',
        );
      }
      return;
    }
    this.opts.onEvent?.(msg);
  }

  /** Fails every command still waiting (the socket closed or was replaced). */
  failAll(err: HttpError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }

  private markAlive(): void {
    this.alive = true;
    this.lastSeen = Date.now();
  }

  private onMessage(text: string | null): void {
    const { log } = this.opts;
    let raw: unknown;
    try {
      if (text === null) throw new ProtocolError('', 'replies must be text frames');
      raw = JSON.parse(text);
    } catch (err) {
      const why = err instanceof ProtocolError ? err.message : 'not JSON';
      log.warn({ deviceId: this.deviceId, error: why }, 'ignored an unreadable message from the agent');
      return;
    }
    if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'event') {
      this.onEvent(raw);
      return;
    }
    if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'waiting') {
      this.onWaiting(raw);
      return;
    }
    const id = salvageCommandId(raw);
    const waiting = id === null ? undefined : this.pending.get(id);
    try {
      const reply = agentReply(raw, '');
      if (!reply.ok) {
        if (reply.id === null) {
          log.warn(
            { deviceId: this.deviceId, error: reply.error },
            'agent rejected a command it could not read',
          );
          return;
        }
        const { code, message, retryAfterMs } = reply.error;
        // A capacity answer tells the viewer when to try again, in whole seconds (RFC 9110 §10.2.3).
        const headers: Record<string, string> = {};
        if (retryAfterMs !== undefined)
          headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
        return this.settle(
          reply.id,
          new HttpError(agentErrorStatus(code), code, message, undefined, headers),
        );
      }
      if (!waiting) {
        log.debug({ deviceId: this.deviceId, id }, 'reply to no pending command (timed out?)');
        return;
      }
      const result = resultGuards[waiting.type](reply.result, 'result');
      this.settle(reply.id, undefined, result);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      log.warn({ deviceId: this.deviceId, id, error: err.message }, 'agent sent an invalid reply');
      if (id !== null) {
        this.settle(
          id,
          new HttpError(502, 'bad_agent_reply', `the device sent an invalid reply: ${err.message}`),
        );
      }
    }
  }

  private settle(id: string, err: HttpError | undefined, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    (this.opts.timers ?? realTimers).clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(result);
  }
}
