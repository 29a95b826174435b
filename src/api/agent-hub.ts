/**
 * The agents' side of the API: authenticates `GET /api/agent` upgrades (device id + token, 401
 * before any upgrade), keeps one connection per device (a newer one replaces the older), pings them,
 * and drops connections that fall silent or whose device was removed from the store.
 *
 * With several instances (src/api/redis/) the fleet records which instance holds each agent: a
 * connection claims the device (the previous instance drops its own), the heartbeat renews the claim,
 * and a command for an agent held elsewhere is relayed to that instance (`target`).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import { AgentConnection } from './agent-connection.js';
import type { AuditSink } from './audit-log.js';
import { desktopAuditLine } from './agent-event-audit.js';
import { HttpError, storeUnavailable } from './http-json.js';
import { StoreError, type ApiStore } from './store.js';
import { bearerToken } from './tokens.js';
import { errorMessage } from '../errors/error-text.js';
import { apiLinkHeaders, parseApiLinkPeer, type ApiLinkPeer } from '../protocol/api-version.js';
import { parseApiCommand } from '../protocol/api.js';
import { ProtocolError } from '../protocol/validate.js';
import type { AgentTarget, Fleet, FleetHandlers, RelayedCommand } from './redis/fleet.js';
import { LocalFleet } from './redis/local-fleet.js';
import { routingUnavailable } from './redis/command-relay.js';

/** Largest message an agent may send (replies are a few KiB; the same bound the agent applies). */
export const MAX_AGENT_MESSAGE_BYTES = 1024 * 1024;

export const CLOSE_REPLACED = 4000;
/** Desktops whose viewer the hub remembers for event audit lines (a map entry is ~100 bytes). */
export const MAX_REMEMBERED_DESKTOPS = 10_000;
export const CLOSE_DEVICE_REMOVED = 4001;
/**
 * The heartbeat visits one slice of the agents (by a hash of the device id) every interval / SLICES,
 * so each agent is still checked once per interval but no tick pings thousands at once: 2,500
 * `ws.ping()` calls in one loop held the event loop 38–220 ms (design/API.md, fleet scale).
 */
export const HEARTBEAT_SLICES = 10;

export interface AgentHubOptions {
  store: ApiStore;
  audit: AuditSink;
  log: Logger;
  commandTimeoutMs: number;
  heartbeatMs: number;
  /** Which instance holds which agent (default: this one holds them all). */
  fleet?: Fleet;
}

export class AgentHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_MESSAGE_BYTES });
  private readonly connections = new Map<string, AgentConnection>();
  /** When each device was last heard from, kept after it disconnects (in memory only). */
  private readonly lastSeenAt = new Map<string, number>();
  /** `device/desktop` → the viewer who started it, so the audit line of an event names them. */
  private readonly desktopViewers = new Map<string, string>();
  private readonly heartbeat: NodeJS.Timeout;
  private beating: Promise<void> | undefined;
  private nextSlice = 0;
  readonly fleet: Fleet;

  constructor(private readonly opts: AgentHubOptions) {
    this.fleet = opts.fleet ?? new LocalFleet();
    // Every 101 carries the API's announcement (api-version.ts): an agent sends a reply field only if
    // the API announced its feature. An older agent ignores the headers.
    const announcement = Object.entries(apiLinkHeaders()).map(([k, v]) => `${k}: ${v}`);
    this.wss.on('headers', (headers) => headers.push(...announcement));
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, opts.heartbeatMs / HEARTBEAT_SLICES));
    this.heartbeat.unref();
  }

  connection(deviceId: string): AgentConnection | undefined {
    return this.connections.get(deviceId);
  }

  /** Agents this instance holds. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Where to send a command for the device: its connection here, or a relay to the instance that
   * holds it; undefined when no instance does (409 `device_offline`). 503 `routing_unavailable` when
   * Redis cannot say.
   */
  async target(deviceId: string): Promise<AgentTarget | undefined> {
    const local = this.connections.get(deviceId);
    if (local) return { where: 'local', command: (type, payload) => local.command(type, payload) };
    let owner: string | undefined;
    try {
      owner = (await this.fleet.owners([deviceId])).get(deviceId);
    } catch (err) {
      this.opts.log.warn({ deviceId, err: errorMessage(err) }, 'cannot look up the agent’s instance');
      throw routingUnavailable();
    }
    // Our own id with no connection here: a claim whose release has not landed yet.
    if (owner === undefined || owner === this.fleet.instanceId) return undefined;
    return this.fleet.remote(owner, deviceId);
  }

  /** Which of these devices have an agent connected to any instance (this one only, if Redis fails). */
  async online(deviceIds: readonly string[]): Promise<Set<string>> {
    const out = new Set(deviceIds.filter((id) => this.connections.has(id)));
    if (this.fleet.kind === 'local') return out;
    try {
      for (const id of (await this.fleet.owners(deviceIds)).keys()) out.add(id);
    } catch (err) {
      this.opts.log.warn(
        { err: errorMessage(err) },
        'cannot read agent ownership; listing local agents only',
      );
    }
    return out;
  }

  /** What the fleet calls back into this hub: takeovers, relayed commands, revocations. */
  fleetHandlers(): FleetHandlers {
    return {
      onTakeover: (deviceId) => this.dropTakenOver(deviceId),
      onCommand: (cmd) => this.runRelayed(cmd),
      onRevocation: (r) => {
        const conn = this.connections.get(r.deviceId);
        if (!conn) return;
        this.opts.log.info({ deviceId: r.deviceId }, 'device removed: closing its agent');
        conn.closeReason = 'device_removed';
        conn.ws.close(CLOSE_DEVICE_REMOVED, 'device removed');
      },
    };
  }

  /** Another instance holds the device now: ours is stale (no device online on two instances). */
  private dropTakenOver(deviceId: string): void {
    const conn = this.connections.get(deviceId);
    if (!conn) return;
    this.opts.log.info({ deviceId }, 'the agent connected to another instance; dropping this connection');
    this.connections.delete(deviceId);
    conn.closeReason = 'replaced';
    conn.failAll(new HttpError(502, 'agent_disconnected', 'the device reconnected before replying'));
    conn.ws.close(CLOSE_REPLACED, 'replaced');
  }

  /** A command relayed from another instance, for an agent held here. */
  private async runRelayed(cmd: RelayedCommand): Promise<unknown> {
    let parsed;
    try {
      parsed = parseApiCommand({ id: 'relayed', type: cmd.type, payload: cmd.payload });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new HttpError(400, 'bad_request', `relayed command: ${err.message}`, err.field || undefined);
    }
    const conn = this.connections.get(cmd.deviceId);
    if (!conn) {
      throw new HttpError(
        409,
        'device_offline',
        `device '${cmd.deviceId}' is not connected to the API right now`,
      );
    }
    if (parsed.type === 'start_desktop' && parsed.payload.viewer) {
      this.rememberDesktop(cmd.deviceId, parsed.payload.sessionId, parsed.payload.viewer.name);
    }
    return conn.command(parsed.type, parsed.payload as never, { onWaiting: cmd.onWaiting });
  }

  /** Remembers who started a desktop (the most recent MAX_REMEMBERED_DESKTOPS), for event audit lines. */
  rememberDesktop(deviceId: string, desktopId: string, viewer: string): void {
    const key = `${deviceId}/${desktopId}`;
    this.desktopViewers.delete(key);
    this.desktopViewers.set(key, viewer);
    if (this.desktopViewers.size > MAX_REMEMBERED_DESKTOPS) {
      const oldest = this.desktopViewers.keys().next().value;
      if (oldest !== undefined) this.desktopViewers.delete(oldest);
    }
  }

  /** Who started this desktop, if this instance remembers it (it may have been another instance). */
  desktopViewer(deviceId: string, desktopId: string): string | undefined {
    return this.desktopViewers.get(`${deviceId}/${desktopId}`);
  }

  private viewerOf(deviceId: string, desktopId: string): string | null {
    return this.desktopViewers.get(`${deviceId}/${desktopId}`) ?? null;
  }

  lastSeen(deviceId: string): number | undefined {
    return this.connections.get(deviceId)?.lastSeen ?? this.lastSeenAt.get(deviceId);
  }

  /**
   * Handles an HTTP upgrade on the agent path: 401 unless the device id and token match; 503
   * `store_unavailable` (with Retry-After, which the agent honours) while the database is unreachable.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.authenticateUpgrade(req, socket, head).catch((err: unknown) => {
      this.opts.log.error({ err: errorMessage(err) }, 'agent upgrade failed');
      socket.destroy();
    });
  }

  private async authenticateUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const remote = req.socket.remoteAddress ?? 'unknown';
    const deviceHeader = req.headers['x-porthole-device'];
    const deviceId = typeof deviceHeader === 'string' ? deviceHeader : '';
    const token = bearerToken(req.headers.authorization);
    let device;
    try {
      device = deviceId && token ? await this.opts.store.authenticateDevice(deviceId, token) : undefined;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'unavailable') {
        this.opts.log.warn({ remote, err: err.message }, 'refused an agent: the store is unavailable');
        return refuseUpgrade(socket, storeUnavailable());
      }
      this.opts.log.error({ err: errorMessage(err) }, 'cannot read the store');
      return refuseUpgrade(socket, new HttpError(500, 'internal', 'the API cannot read its store'));
    }
    // The socket may have gone while the store answered.
    if (socket.destroyed) return;
    if (!device) {
      this.opts.log.warn(
        { remote, deviceId: deviceId.slice(0, 128) },
        'refused an agent (bad device id or token)',
      );
      return refuseUpgrade(socket, new HttpError(401, 'unauthorized', 'unknown device or wrong token'));
    }
    // What the agent understands, from its upgrade request; an agent that says nothing is version 1.
    const peer = parseApiLinkPeer(req.headers);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, device.id, remote, peer));
  }

  /** Closes every agent connection (1001 going away) and stops the heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.beating;
    const closing = [...this.connections.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            c.ws.terminate();
            resolve();
          }, 1000);
          c.ws.once('close', () => {
            clearTimeout(t);
            resolve();
          });
          c.ws.close(1001, 'API stopping');
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, deviceId: string, remote: string, peer: ApiLinkPeer): void {
    const { log, audit } = this.opts;
    const conn = new AgentConnection(ws, deviceId, remote, peer, {
      commandTimeoutMs: this.opts.commandTimeoutMs,
      log,
      onEvent: (msg) =>
        audit.record(desktopAuditLine(deviceId, remote, msg, this.viewerOf(deviceId, msg.event.desktop))),
    });
    const previous = this.connections.get(deviceId);
    this.connections.set(deviceId, conn);
    this.fleet.claim(deviceId).catch((err: unknown) => {
      // The heartbeat claims it again; meanwhile other instances may not find this agent.
      log.warn({ deviceId, err: errorMessage(err) }, 'cannot record which instance holds the agent');
    });
    if (previous) {
      log.info({ deviceId }, 'a new connection replaces the device’s previous one');
      previous.failAll(new HttpError(502, 'agent_disconnected', 'the device reconnected before replying'));
      previous.ws.close(CLOSE_REPLACED, 'replaced');
    }
    if (peer.malformed) {
      log.warn({ deviceId, reason: peer.malformed }, 'ignored the agent’s protocol announcement; version 1');
    }
    log.info({ deviceId, remote, protocol: peer.version, features: [...peer.features] }, 'agent connected');
    audit.record({ viewer: null, device: deviceId, action: 'agent_connected', ok: true, remote });

    ws.on('close', (code) => {
      conn.failAll(new HttpError(502, 'agent_disconnected', 'the device disconnected before replying'));
      this.lastSeenAt.set(deviceId, conn.lastSeen);
      if (this.connections.get(deviceId) === conn) {
        this.connections.delete(deviceId);
        // Only if the key still names this instance: a newer connection elsewhere keeps its claim.
        this.fleet.release(deviceId).catch((err: unknown) => {
          log.warn({ deviceId, err: errorMessage(err) }, 'cannot release the agent’s ownership (it expires)');
        });
      }
      const reason = conn.closeReason ?? (code === CLOSE_REPLACED ? 'replaced' : undefined);
      log.info({ deviceId, code, reason }, 'agent disconnected');
      audit.record({
        viewer: null,
        device: deviceId,
        action: 'agent_disconnected',
        ok: reason !== 'heartbeat_timeout',
        ...(reason ? { code: reason } : {}),
        remote,
      });
    });
    ws.on('error', (err) => log.warn({ deviceId, err: err.message }, 'agent socket error'));
  }

  private beat(): void {
    // A beat waits for the store; a slow database must not stack them up (the skipped slice comes
    // next, so every agent is still visited in turn).
    if (this.beating) return;
    const slice = this.nextSlice;
    this.nextSlice = (slice + 1) % HEARTBEAT_SLICES;
    this.beating = this.beatOnce(slice).finally(() => (this.beating = undefined));
  }

  private async beatOnce(slice: number): Promise<void> {
    // Only agents held here, of this slice, are checked (one query), not the fleet's device list.
    const held = [...this.connections.keys()].filter((id) => sliceOf(id) === slice);
    if (held.length === 0) return;
    let known: Set<string>;
    try {
      known = await this.opts.store.presentDevices(held);
    } catch (err) {
      // A store broken by hand, or a database that is down, is reported on every request; keep the
      // agents (and their heartbeat) until it is back, then removed devices are dropped.
      this.opts.log.error({ err: errorMessage(err) }, 'cannot read the store');
      known = new Set(held);
    }
    try {
      // A claim that names another instance now (it was taken over while a takeover message was
      // lost) or that expired while Redis was unreachable: drop, or renew what is still ours.
      const lost = (await this.fleet.refresh(held)).filter((id) => known.has(id));
      const owners = lost.length > 0 ? await this.fleet.owners(lost) : new Map<string, string>();
      for (const deviceId of lost) {
        const owner = owners.get(deviceId);
        if (owner === undefined) await this.fleet.claim(deviceId);
        else if (owner !== this.fleet.instanceId) this.dropTakenOver(deviceId);
      }
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'cannot renew agent ownership in Redis');
    }
    // Only the connections of `held`: one accepted during the awaits above is not in `known`.
    for (const deviceId of held) {
      const conn = this.connections.get(deviceId);
      if (!conn) continue;
      if (!known.has(deviceId)) {
        conn.closeReason = 'device_removed';
        conn.ws.close(CLOSE_DEVICE_REMOVED, 'device removed');
        continue;
      }
      if (!conn.alive) {
        this.opts.log.warn({ deviceId }, 'agent missed a heartbeat; dropping it');
        conn.closeReason = 'heartbeat_timeout';
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }
}

/** A stable slice for a device id (FNV-1a), so each agent is visited once per heartbeat interval. */
function sliceOf(deviceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % HEARTBEAT_SLICES;
}

function refuseUpgrade(socket: Duplex, err: HttpError): void {
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  const status =
    err.status === 401
      ? '401 Unauthorized'
      : err.status === 503
        ? '503 Service Unavailable'
        : '500 Internal Server Error';
  const extra = Object.entries(err.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `${extra}connection: close\r\n\r\n${body}`,
  );
}
