import { WebSocket } from 'ws';
import {
  parseApiCommand,
  salvageCommandId,
  type AgentReply,
  type ApiCommand,
  type CommandWaiting,
  type ResultByType,
} from '../protocol/api.js';
import {
  API_LINK_V1,
  apiLinkHeaders,
  errorBodyForPeer,
  parseApiLinkPeer,
  type ApiLinkPeer,
} from '../protocol/api-version.js';
import { ProtocolError } from '../protocol/validate.js';
import type { AgentEventMessage } from '../protocol/audit-event.js';
import type { ErrorCode } from '../protocol/common.js';
import type { Logger } from '../log/logger.js';
import { Backoff } from './backoff.js';
import { toBrokerError } from './broker-error.js';
import { retryAfterMs } from './retry-after.js';
import { realTimers, type TimerHandle, type Timers } from '../time/timers.js';

/**
 * Handles one command. `waitingForConsent(timeoutMs)` tells the API the command waits for the person
 * at the machine (a `waiting` message, to an API that announced `consent`, which then waits longer).
 */
export type CommandHandler = (
  cmd: ApiCommand,
  progress: { waitingForConsent(timeoutMs: number): void },
) => Promise<ResultByType[ApiCommand['type']]>;

export interface ApiLinkOptions {
  /** ws:// or wss:// URL of the API's agent endpoint. */
  url: string;
  /**
   * Several endpoints of one API (instances without a load balancer, or a standby), `url` among them:
   * each attempt after a failure or a close goes to the next one, after the same backoff delay.
   */
  urls?: readonly string[];
  deviceId: string;
  token: string;
  handler: CommandHandler;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  heartbeatMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * The cap after the API refused the agent itself (401/403: a revoked or mistyped token), which no
   * quick retry mends; retrying still, slowly, lets a token fixed on the server take effect.
   */
  refusedBackoffMaxMs?: number;
  /** How long a link must stay open before its backoff starts again from the base. */
  stableAfterMs?: number;
  /** Commands handled at once; more get a `busy` reply instead of queueing without bound. */
  maxInFlight?: number;
  /** The reconnect and stability timers (tests pass a fake clock). */
  timers?: Timers;
  /** The backoff's jitter source (tests pass a fixed one). */
  random?: () => number;
}

/** What an API told `busy` should wait before sending the command again. */
const BUSY_RETRY_AFTER_MS = 1000;

/** Largest command accepted from the API (an offer is ~5 KiB; 1 MiB leaves room and bounds memory). */
const MAX_COMMAND_BYTES = 1024 * 1024;

/**
 * The agent's WebSocket to the API: authenticates with device id + token, answers commands, keeps the
 * link alive with pings, and reconnects with jittered exponential backoff (capped at 30 s, 5 min after
 * the API refused the agent). Every way an attempt can end (refused upgrade, network error, handshake
 * timeout, missed heartbeat, close by the API) goes through 'close', which schedules the next attempt
 * and writes the one log line of that attempt.
 */
export class ApiLink {
  private ws: WebSocket | undefined;
  private stopped = false;
  private reconnectTimer: TimerHandle | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stableTimer: TimerHandle | undefined;
  private readonly timers: Timers;
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private inFlight = 0;
  private readonly backoff: Backoff;
  private readonly refusedBackoff: Backoff;
  /** Number of times the link has opened, for status and tests. */
  connects = 0;
  /** What the API announced on the current link (api-version.ts); replies carry only what it reads. */
  apiPeer: ApiLinkPeer | undefined;

  constructor(private readonly opts: ApiLinkOptions) {
    const baseMs = opts.backoffBaseMs ?? 1000;
    const random = opts.random ? { random: opts.random } : {};
    this.backoff = new Backoff({ baseMs, maxMs: opts.backoffMaxMs ?? 30_000, ...random });
    this.refusedBackoff = new Backoff({ baseMs, maxMs: opts.refusedBackoffMaxMs ?? 300_000, ...random });
    this.timers = opts.timers ?? realTimers;
    this.urls = opts.urls && opts.urls.length > 0 ? opts.urls : [opts.url];
    this.urlIndex = Math.max(0, this.urls.indexOf(opts.url));
  }

  /** The endpoint the current (or next) attempt uses. */
  get url(): string {
    return this.urls[this.urlIndex] ?? this.opts.url;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /**
   * Sends an audit event to the API, if it is connected and announced `audit_events`; false when it
   * was not sent. Events are not queued while the link is down: the audit trail of a desktop whose
   * API link is cut has a gap, which the API's agent_disconnected line shows.
   */
  sendEvent(msg: AgentEventMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.apiPeer?.features.has('audit_events')) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Closes the link cleanly (close frame 1001 "going away") and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.reconnectTimer);
    this.timers.clearTimeout(this.stableTimer);
    clearInterval(this.heartbeat);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'agent stopping');
    });
  }

  private connect(): void {
    const { log } = this.opts;
    const url = this.url;
    const ws = new WebSocket(url, {
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        'x-porthole-device': this.opts.deviceId,
        ...apiLinkHeaders(),
      },
      handshakeTimeout: 10_000,
      maxPayload: MAX_COMMAND_BYTES,
    });
    this.ws = ws;
    let alive = true;
    // Why this attempt ended, for the one line logged when it closes.
    let failure: { status?: number; err?: string; retryAfterMs?: number } = {};
    // The API's announcement rides on its 101, which ws reports before 'open' and any command.
    let api = API_LINK_V1;
    ws.on('upgrade', (res) => {
      api = parseApiLinkPeer(res.headers);
    });
    ws.on('open', () => {
      this.apiPeer = api;
      this.connects += 1;
      // A link that opens and drops at once (an API shedding load, two agents with one id replacing
      // each other) must not reconnect at the base rate: the backoff restarts only once it held.
      this.stableTimer = this.timers.setTimeout(() => {
        this.backoff.reset();
        this.refusedBackoff.reset();
      }, this.opts.stableAfterMs ?? 10_000);
      if (api.malformed) {
        log.warn({ reason: api.malformed }, 'ignored the API’s protocol announcement; speaking version 1');
      }
      log.info(
        {
          url: redact(url),
          deviceId: this.opts.deviceId,
          apiProtocol: api.version,
          apiFeatures: [...api.features],
        },
        'API link connected',
      );
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        if (!alive) {
          failure.err = 'missed a heartbeat';
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, this.opts.heartbeatMs ?? 15_000);
    });
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data, isBinary) => {
      alive = true;
      void this.onMessage(ws, api, isBinary ? null : data.toString());
    });
    // An HTTP answer instead of the upgrade (401 for a bad token, 502/503 from a proxy during a
    // deploy). With this listener ws leaves the handshake open: terminate() aborts it, and 'error'
    // and 'close' follow.
    ws.on('unexpected-response', (_req, res) => {
      failure = { status: res.statusCode ?? 0 };
      const wait = retryAfterMs(res.headers['retry-after']);
      if (wait !== undefined && wait > 0) failure.retryAfterMs = wait;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      failure.err ??= err.message;
    });
    ws.on('close', (code) => {
      clearInterval(this.heartbeat);
      this.timers.clearTimeout(this.stableTimer);
      if (this.ws === ws) {
        this.ws = undefined;
        this.apiPeer = undefined;
      }
      if (this.stopped) return;
      const refused = failure.status === 401 || failure.status === 403;
      // A Retry-After from the API (or its proxy) is a floor, never beyond the long cap.
      const delay = Math.min(
        Math.max((refused ? this.refusedBackoff : this.backoff).next(), failure.retryAfterMs ?? 0),
        this.opts.refusedBackoffMaxMs ?? 300_000,
      );
      // The next attempt goes to the next endpoint: an instance that died or refused is not retried
      // before the others (a single URL behind a load balancer is simply retried).
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      const next = this.urls.length > 1 ? { next: redact(this.url) } : {};
      if (refused) {
        log.error(
          { ...failure, delayMs: delay, ...next },
          'API refused the agent (check device id and token); retrying',
        );
      } else if (failure.status !== undefined || failure.err !== undefined) {
        log.warn({ ...failure, code, delayMs: delay, ...next }, 'API link failed; reconnecting');
      } else {
        log.info({ code, delayMs: delay, ...next }, 'API link closed; reconnecting');
      }
      this.reconnectTimer = this.timers.setTimeout(() => this.connect(), delay);
    });
  }

  private async onMessage(ws: WebSocket, api: ApiLinkPeer, text: string | null): Promise<void> {
    const reply = (r: AgentReply) => this.reply(ws, api, r);
    let raw: unknown;
    try {
      if (text === null) throw new ProtocolError('', 'commands must be text frames');
      raw = JSON.parse(text);
    } catch (err) {
      return reply(errorReply(null, 'bad_request', err instanceof ProtocolError ? err.message : 'not JSON'));
    }
    let cmd: ApiCommand;
    try {
      cmd = parseApiCommand(raw);
    } catch (err) {
      const message = err instanceof ProtocolError ? err.message : 'invalid command';
      this.opts.log.warn({ id: salvageCommandId(raw), error: message }, 'rejected a malformed command');
      return reply(errorReply(salvageCommandId(raw), 'bad_request', message));
    }
    if (this.inFlight >= (this.opts.maxInFlight ?? 32)) {
      // A capacity limit, not the API's mistake: it may send the command again shortly.
      const busy = { retryAfterMs: BUSY_RETRY_AFTER_MS };
      return reply(errorReply(cmd.id, 'busy', `${this.inFlight} commands are in flight`, busy));
    }
    this.inFlight += 1;
    try {
      const result = await this.opts.handler(cmd, {
        waitingForConsent: (timeoutMs) => {
          if (!api.features.has('consent') || ws.readyState !== WebSocket.OPEN) return;
          const msg: CommandWaiting = { type: 'waiting', id: cmd.id, for: 'consent', timeoutMs };
          ws.send(JSON.stringify(msg));
        },
      });
      reply({ id: cmd.id, type: 'result', ok: true, result });
    } catch (err) {
      const e = toBrokerError(err);
      this.opts.log.warn({ id: cmd.id, command: cmd.type, code: e.code, error: e.message }, 'command failed');
      reply(errorReply(cmd.id, e.code, e.message, e));
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Sends a reply with only what this API reads: an older one lacks the capacity codes and retryAfterMs. */
  private reply(ws: WebSocket, api: ApiLinkPeer, reply: AgentReply): void {
    const fitted = reply.ok ? reply : { ...reply, error: errorBodyForPeer(reply.error, api) };
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(fitted));
  }
}

function errorReply(
  id: string | null,
  code: ErrorCode,
  message: string,
  capacity: { retryAfterMs?: number | undefined } = {},
): AgentReply {
  const retry = capacity.retryAfterMs;
  return {
    id,
    type: 'result',
    ok: false,
    error: {
      code,
      message: message.slice(0, 2000),
      ...(retry === undefined ? {} : { retryAfterMs: Math.min(3_600_000, Math.max(0, Math.ceil(retry))) }),
    },
  };
}

/** A URL for logs: no credentials or query string. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
