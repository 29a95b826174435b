/**
 * The agents' side of the API: authenticates `GET /api/agent` upgrades (device id + token, 401
 * before any upgrade), keeps one connection per device (a newer one replaces the older), pings them,
 * and drops connections that fall silent or whose device was removed from the store.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import { AgentConnection } from './agent-connection.js';
import type { AuditEvent, AuditSink } from './audit-log.js';
import { HttpError, storeUnavailable } from './http-json.js';
import { StoreError, type ApiStore } from './store.js';
import { bearerToken } from './tokens.js';
import { errorMessage } from '../errors/error-text.js';
import { apiLinkHeaders, parseApiLinkPeer, type ApiLinkPeer } from '../protocol/api-version.js';
import type { AgentEventMessage } from '../protocol/audit-event.js';

/** Largest message an agent may send (replies are a few KiB; the same bound the agent applies). */
export const MAX_AGENT_MESSAGE_BYTES = 1024 * 1024;

export const CLOSE_REPLACED = 4000;
/** Desktops whose viewer the hub remembers for event audit lines (a map entry is ~100 bytes). */
export const MAX_REMEMBERED_DESKTOPS = 10_000;
export const CLOSE_DEVICE_REMOVED = 4001;

export interface AgentHubOptions {
  store: ApiStore;
  audit: AuditSink;
  log: Logger;
  commandTimeoutMs: number;
  heartbeatMs: number;
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

  constructor(private readonly opts: AgentHubOptions) {
    // Every 101 carries the API's announcement (api-version.ts): an agent sends a reply field only if
    // the API announced its feature. An older agent ignores the headers.
    const announcement = Object.entries(apiLinkHeaders()).map(([k, v]) => `${k}: ${v}`);
    this.wss.on('headers', (headers) => headers.push(...announcement));
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  connection(deviceId: string): AgentConnection | undefined {
    return this.connections.get(deviceId);
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
      if (this.connections.get(deviceId) === conn) this.connections.delete(deviceId);
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
    // A beat waits for the store; a slow database must not stack them up.
    if (this.beating) return;
    this.beating = this.beatOnce().finally(() => (this.beating = undefined));
  }

  private async beatOnce(): Promise<void> {
    let known: Set<string>;
    try {
      known = new Set((await this.opts.store.devices()).map((d) => d.id));
    } catch (err) {
      // A store broken by hand, or a database that is down, is reported on every request; keep the
      // agents (and their heartbeat) until it is back, then removed devices are dropped.
      this.opts.log.error({ err: errorMessage(err) }, 'cannot read the store');
      known = new Set(this.connections.keys());
    }
    for (const [deviceId, conn] of this.connections) {
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

/**
 * The audit line of an agent's event: metadata only, with the viewer the API itself remembers for that
 * desktop (null when it started before this API process did), never a name the agent supplied.
 */
export function desktopAuditLine(
  deviceId: string,
  remote: string,
  msg: AgentEventMessage,
  viewer: string | null,
): AuditEvent {
  const e = msg.event;
  const base = {
    viewer,
    device: deviceId,
    desktopSessionId: e.desktop,
    targetSessionId: msg.targetSessionId,
    remote,
  };
  switch (e.kind) {
    case 'file_transfer':
      return {
        ...base,
        action: 'file_transfer',
        ok: e.outcome === 'complete',
        ...(e.outcome !== 'complete' ? { code: e.outcome } : {}),
        direction: e.direction,
        file: e.name,
        size: e.size,
      };
    case 'consent':
      return { ...base, action: 'consent', ok: e.outcome === 'accepted', code: e.outcome };
    case 'session_cut':
      return { ...base, action: 'session_cut', ok: true, code: e.reason };
    case 'chat':
      return { ...base, action: 'chat', ok: true };
  }
}
