/**
 * `startApiServer`: the reference API and signaling server in one node:http (or node:https) server.
 * /api/agent upgrades to the agents' WebSocket, other /api routes are the viewer's JSON API, and
 * everything else is the built viewer. Plain HTTP is refused on anything but loopback, because bearer
 * tokens and SDP would otherwise cross the network in the clear.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../log/logger.js';
import { AgentHub } from './agent-hub.js';
import type { AuditSink } from './audit-log.js';
import { HttpError, sendError, storeUnavailable } from './http-json.js';
import { checkIceConfig, type IceConfig } from './turn-credentials.js';
import { handleApiRequest, type ApiContext } from './routes.js';
import { serveStatic, setSecurityHeaders } from './static-files.js';
import { StoreError, type ApiStore } from './store.js';
import { openStoreBackend } from './open-store.js';
import { ViewerAuth } from './viewer-auth.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_PORT } from './server-defaults.js';
import { checkAllowedOrigin } from './cors.js';
import { TrustedProxies } from './client-address.js';
import { RelayHub, type RelayTotals } from './relay/relay-hub.js';
import { relaySideOf } from './relay/relay-prefix.js';
import { EnrollEndpoint, type EnrollRateLimits } from './enroll-route.js';
import { realTimers, type Timers } from '../time/timers.js';
import { errorMessage } from '../errors/error-text.js';
import { openFleet } from './redis/open-fleet.js';
import { routingUnavailable } from './redis/command-relay.js';
import { DEFAULT_AUDIT_RETENTION_DAYS } from './postgres/audit-retention.js';

export interface ApiServerOptions {
  /** Where the JSON store and audit log live (see resolveDataDir); unused with `database`. */
  dataDir: string;
  /**
   * `postgres://…`: keep devices, tokens, enrollment keys and the audit log in PostgreSQL (migrated
   * at start) instead of the data dir. Never logged with its password.
   */
  database?: string;
  /**
   * `redis://…`: run as one of several instances behind a load balancer. Redis records which instance
   * holds each agent, relays commands to it, and carries revocations (src/api/redis/). Absent: one
   * instance, nothing shared but the store.
   */
  redis?: string;
  /** PostgreSQL only: audit lines older than this many days are deleted at start and daily (default 365). */
  auditRetentionDays?: number;
  /** Default 127.0.0.1. A non-loopback host needs `tls`. */
  host?: string;
  /** Default 8443; 0 picks a free port. */
  port?: number;
  /** PEM certificate chain and key: serve HTTPS (and wss:// for agents). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  ice?: IceConfig;
  /** The built viewer; default `dist/viewer` in the porthole package. */
  staticDir?: string;
  /** Origins of viewers served elsewhere (a Tauri app) given CORS access to /api; default none. */
  allowOrigins?: string[];
  /** How long a command may wait for the agent's reply (default 30 s). */
  commandTimeoutMs?: number;
  /** Agent ping interval; an agent silent for a whole interval is dropped (default 15 s). */
  heartbeatMs?: number;
  loginTokenTtlMs?: number;
  sessionTokenTtlMs?: number;
  /**
   * Reverse proxies (CIDRs) whose `X-Forwarded-For` names the client: for the enrollment rate limit
   * and the audit log's `remote`. Default none: the TCP peer is the client.
   */
  trustedProxies?: string[];
  /** `POST /api/enroll`'s per-address limits (src/api/enroll-route.ts has the defaults). */
  enrollRateLimits?: EnrollRateLimits;
  /**
   * Where helpers and viewers reach this instance's WebSocket relay (`ws[s]://host[:port][/prefix]`):
   * what `start_desktop.relay.url` and the viewer's relay URL are built on. Default: the address this
   * server listens on (the viewer then gets a relative URL), right for one instance; each instance of a
   * fleet needs its own, which the load balancer routes to it (design/DEPLOY.md). A path prefix is
   * served here too. Advertised to the fleet, so that a misrouted socket's 421 names it.
   */
  relayOrigin?: string;
  /** Relayed desktops this instance carries at once (default 64; beyond: 503 `relay_full`). */
  maxRelays?: number;
  /** The clock of the rate limits (tests pass a fake one). */
  timers?: Timers;
  /** Wall-clock milliseconds for enrollment key expiry (tests pass a fake one). */
  now?: () => number;
  log?: Logger;
}

export interface ApiServer {
  /** http(s)://host:port, the viewer's origin. */
  url: string;
  /** ws(s)://host:port/api/agent, for `porthole service --api-url`. */
  agentUrl: string;
  port: number;
  dataDir: string;
  store: ApiStore;
  audit: AuditSink;
  /** This process's id among the instances sharing a Redis (random per start). */
  instanceId: string;
  /** Agents connected to this instance right now. */
  agentCount(): number;
  /** Relayed desktops with a socket open on this instance (the WebSocket relay). */
  relayCount(): number;
  /** The relay's per-viewer queue counters since the start (frames forwarded and dropped). */
  relayTotals(): RelayTotals;
  /** A one-time login token for `POST /api/login` (10 min). */
  issueLoginToken(name: string, opts?: { viewOnly?: boolean }): Promise<string>;
  /** A named long-lived viewer token (fails if the name is taken). */
  issueViewerToken(name: string, opts?: { viewOnly?: boolean }): Promise<string>;
  /** Registers a device; the token is returned once and stored only as a hash. */
  addDevice(name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_PORT };
export const DEFAULT_HEARTBEAT_MS = 15_000;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const https = options.tls !== undefined;
  if (!https && !isLoopbackHost(host)) {
    throw new Error(
      `refusing plain HTTP on ${host}: tokens would cross the network in the clear; ` +
        'give --tls-cert and --tls-key, or listen on 127.0.0.1',
    );
  }
  const ice = options.ice ?? { stun: [], turn: [] };
  checkIceConfig(ice);
  const allowedOrigins = new Set((options.allowOrigins ?? []).map(checkAllowedOrigin));
  const log = options.log ?? silentLogger;
  const backend = await openStoreBackend({
    dataDir: options.dataDir,
    database: options.database,
    log,
    ...(options.timers ? { timers: options.timers } : {}),
    auditRetentionDays: options.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS,
  });
  const { store, audit } = backend;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const fleet = await openFleet({ redis: options.redis, log, commandTimeoutMs, heartbeatMs });
  const hub = new AgentHub({ store, audit, log, commandTimeoutMs, heartbeatMs, fleet });
  try {
    await fleet.start(hub.fleetHandlers());
  } catch (err) {
    await hub.close();
    await backend.close();
    throw err;
  }
  // With PostgreSQL the store spends a one-time token atomically in SQL; the JSON store's lock file is
  // not trusted across hosts, so with Redis a SET NX decides first (src/api/redis/once-guard.ts).
  const spendOnce =
    fleet.kind === 'redis' && store.kind === 'json'
      ? (key: string, ttlMs: number) =>
          fleet.spendOnce(key, ttlMs).catch((err: unknown) => {
            log.warn({ err: errorMessage(err) }, 'cannot check a one-time token in Redis');
            throw routingUnavailable();
          })
      : undefined;
  const auth = new ViewerAuth(
    store,
    { loginMs: options.loginTokenTtlMs, sessionMs: options.sessionTokenTtlMs },
    spendOnce,
  );
  const proxies = new TrustedProxies(options.trustedProxies ?? []);
  // Filled in once the port is known (port 0 picks one); only the enrollment answer reads it.
  let agentUrl = '';
  const enroll = new EnrollEndpoint({
    store,
    audit,
    log,
    https,
    get defaultAgentUrl() {
      return agentUrl;
    },
    ...(options.enrollRateLimits ? { limits: options.enrollRateLimits } : {}),
    monotonicNow: () => (options.timers ?? realTimers).now(),
    wallNow: options.now ?? Date.now,
  });
  const relay = new RelayHub({
    instanceId: fleet.instanceId,
    log,
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.maxRelays !== undefined ? { maxRelays: options.maxRelays } : {}),
    relayOriginOf: (id) => fleet.relayOriginOf(id),
  });
  let relayOrigin = options.relayOrigin ?? '';
  const ctx: ApiContext = {
    store,
    hub,
    auth,
    audit,
    ice,
    log,
    allowedOrigins,
    enroll,
    relay,
    relayAgentUrl: () => `${relayOrigin}/api/relay/agent`,
    relayViewerUrl: () => `${options.relayOrigin ?? ''}/api/relay/viewer`,
  };
  const staticDir = options.staticDir ?? defaultStaticDir();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    setSecurityHeaders(res, https);
    void route(ctx, proxies, staticDir, req, res);
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
    : createHttpServer(onRequest);
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = pathOf(req);
    const relaySide = relaySideOf(path, options.relayOrigin);
    if (path === '/api/agent') hub.handleUpgrade(req, socket, head);
    else if (relaySide) relay.handleUpgrade(req, socket, head, relaySide);
    else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await hub.close();
    await fleet.close();
    await backend.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const origin = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  agentUrl = `${https ? 'wss' : 'ws'}://${origin}/api/agent`;
  if (!options.relayOrigin) relayOrigin = `${https ? 'wss' : 'ws'}://${origin}`;
  else {
    // Only a configured (public) origin is advertised: the listen address may be loopback.
    await fleet.advertiseRelayOrigin(options.relayOrigin).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'cannot advertise the relay origin in Redis');
    });
  }
  log.info(
    {
      host,
      port,
      https,
      store: store.kind,
      storeLocation: store.location,
      ...(fleet.kind === 'redis' ? { redis: fleet.location, instanceId: fleet.instanceId } : {}),
      staticDir,
      trustedProxies: proxies.cidrs,
    },
    'API listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url: `${https ? 'https' : 'http'}://${origin}`,
    agentUrl,
    port,
    dataDir: options.dataDir,
    store,
    audit,
    instanceId: fleet.instanceId,
    agentCount: () => hub.size,
    relayCount: () => relay.size,
    relayTotals: () => relay.totals(),
    issueLoginToken: (name, opts) => auth.issueLoginToken(name, opts),
    issueViewerToken: async (name, opts) => (await store.issueViewerToken(name, opts)).token,
    addDevice: async (name) => {
      const { device, token } = await store.addDevice(name);
      return { id: device.id, token };
    },
    close() {
      closing ??= (async () => {
        await relay.close();
        await hub.close();
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await fleet.close();
        await backend.close();
      })();
      return closing;
    },
  };
}

async function route(
  ctx: ApiContext,
  proxies: TrustedProxies,
  staticDir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = pathOf(req);
  const peer = req.socket.remoteAddress;
  const viaTrustedProxy = peer !== undefined && proxies.has(peer);
  const remote = proxies.clientAddress(peer, req.headers['x-forwarded-for']);
  try {
    if (path === '/api' || path.startsWith('/api/')) {
      await handleApiRequest(ctx, { req, res, remote, viaTrustedProxy }, path);
    } else {
      serveStatic(staticDir, req, res, path);
    }
  } catch (err) {
    if (res.headersSent) return void res.destroy();
    if (err instanceof HttpError) {
      if (err.status >= 500) ctx.log.warn({ path, code: err.code, error: err.message }, 'request failed');
      return sendError(res, err);
    }
    if (err instanceof StoreError && err.code === 'unavailable') {
      // The database is down or restarting: the pool reconnects on a later request.
      ctx.log.warn({ path, err: err.message }, 'request failed: the store is unavailable');
      return sendError(res, storeUnavailable());
    }
    // Details (a store path, a stack) go to the operator's log, not to the client.
    ctx.log.error({ path, err: errorMessage(err) }, 'request failed unexpectedly');
    const what = err instanceof StoreError ? 'the API cannot read its store' : 'internal error';
    sendError(res, new HttpError(500, 'internal', what));
  }
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  return path.startsWith('/') ? path : `/${path}`;
}

/** `dist/viewer` in the porthole package, found from this module whether it runs from src/ or dist/. */
export function defaultStaticDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"porthole"/.test(readFileSync(pkg, 'utf8'))) {
      return join(dir, 'dist', 'viewer');
    }
    dir = dirname(dir);
  }
  return join(process.cwd(), 'dist', 'viewer');
}
