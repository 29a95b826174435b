/**
 * Test harness for the API: a real server on a free loopback port with a temp data dir, a viewer
 * token, a registered device, an HTTP helper, and a fake agent (a real `ws` client) whose replies the
 * test scripts.
 *
 * The store is the JSON file, or with PORTHOLE_TEST_STORE=postgres (`npm run test:postgres`) a fresh
 * database in the private PostgreSQL cluster that suite's global setup started: the same route tests
 * then run against the PostgreSQL store and its audit table. With PORTHOLE_TEST_REDIS=1 as well
 * (`npm run test:fleet`) the server also joins that suite's private Redis.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { WebSocket } from 'ws';
import type { AuditLine } from '../../src/api/audit-log.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from '../fixtures/postgres.js';

/** Which store the route tests run on. */
export const TEST_STORE: 'json' | 'postgres' =
  process.env.PORTHOLE_TEST_STORE === 'postgres' ? 'postgres' : 'json';

export interface Harness {
  server: ApiServer;
  dir: string;
  /** What another API instance on the same store is started with (and the same Redis, if any). */
  storeOptions: { dataDir: string; database?: string; redis?: string };
  viewerToken: string;
  device: { id: string; token: string };
  /** A JSON request; `token` defaults to the viewer token (pass null for none). */
  request(method: string, path: string, body?: unknown, token?: string | null): Promise<JsonResponse>;
  /** Every audit line so far (the audit writer flushed first), oldest first. */
  audit(): Promise<AuditLine[]>;
  close(): Promise<void>;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the shape is what the test checks
}

export async function startHarness(options: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-api-'));
  let db: TestDatabase | undefined;
  if (TEST_STORE === 'postgres' && options.database === undefined) {
    const admin = inject('pgAdminUrl');
    if (!admin)
      throw new Error('PORTHOLE_TEST_STORE=postgres needs the private cluster of vitest.postgres.config.ts');
    db = await createTestDatabase(admin);
  }
  // `npm run test:fleet` runs the route tests once more with Redis (vitest.fleet.config.ts).
  const redis = process.env.PORTHOLE_TEST_REDIS === '1' ? inject('redisUrl') : undefined;
  const storeOptions = { dataDir: dir, ...(db ? { database: db.url } : {}), ...(redis ? { redis } : {}) };
  const server = await startApiServer({
    ...storeOptions,
    port: 0,
    staticDir: join(dir, 'no-viewer'),
    ...options,
  });
  const viewerToken = await server.issueViewerToken('alice');
  const device = await server.addDevice('test box');
  return {
    server,
    dir,
    storeOptions,
    viewerToken,
    device,
    async request(method, path, body, token = viewerToken) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain text (static files); the test reads it as a string
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async audit() {
      await server.audit.flush();
      if (!db) {
        return readFileSync(join(dir, 'audit.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AuditLine);
      }
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        return (await c.query<{ line: AuditLine }>('SELECT line FROM audit_log ORDER BY id')).rows.map(
          (r) => r.line,
        );
      } finally {
        await c.end();
      }
    },
    async close() {
      await server.close();
      await db?.drop();
    },
  };
}

export interface Command {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

/** What the fake agent sends back for a command: a reply object, raw text, or nothing (silence). */
export type Responder = (cmd: Command) => object | string | undefined | Promise<object | string | undefined>;

export interface FakeAgent {
  ws: WebSocket;
  /** The headers of the API's 101 (its protocol announcement). */
  upgradeHeaders: Record<string, string | string[] | undefined>;
  commands: Command[];
  closed: Promise<{ code: number; reason: string }>;
  respond: Responder;
  close(): Promise<void>;
}

/** Connects a fake agent with the given credentials; rejects with the HTTP status if refused. */
export function connectAgent(
  /** Any API instance: an in-process server, or a `porthole api serve` process's agent URL. */
  server: Pick<ApiServer, 'agentUrl'>,
  device: { id: string; token: string },
  respond: Responder = () => undefined,
  /** `headers`: more upgrade headers, e.g. a protocol announcement (without one the agent is version 1). */
  opts: { autoPong?: boolean; headers?: Record<string, string> } = {},
): Promise<FakeAgent> {
  const ws = new WebSocket(server.agentUrl, {
    headers: { authorization: `Bearer ${device.token}`, 'x-porthole-device': device.id, ...opts.headers },
    ...(opts.autoPong === false ? { autoPong: false } : {}),
  });
  const agent: FakeAgent = {
    ws,
    upgradeHeaders: {},
    commands: [],
    respond,
    closed: new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    ),
    close: async () => {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await agent.closed;
      }
    },
  };
  ws.once('upgrade', (res) => (agent.upgradeHeaders = res.headers));
  ws.on('message', (data) => {
    const cmd = JSON.parse(data.toString()) as Command;
    agent.commands.push(cmd);
    void Promise.resolve(agent.respond(cmd)).then((reply) => {
      if (reply === undefined || ws.readyState !== WebSocket.OPEN) return;
      ws.send(typeof reply === 'string' ? reply : JSON.stringify(reply));
    });
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(agent));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export const ok = (cmd: Command, result: object) => ({ id: cmd.id, type: 'result', ok: true, result });
export const failed = (cmd: Command, code: string, message: string) => ({
  id: cmd.id,
  type: 'result',
  ok: false,
  error: { code, message },
});

/** The smallest offer the API accepts: SDP with a video section offering H.264. */
export const OFFER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 106\r\na=rtpmap:106 H264/90000\r\n';
export const ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/** A fake agent that answers every command the way a healthy service would. */
export const healthyAgent: Responder = (cmd) => {
  switch (cmd.type) {
    case 'list_sessions':
      return ok(cmd, {
        sessions: [
          {
            sessionId: 7,
            username: 'alice',
            state: 'active',
            type: 'x11',
            helperConnected: true,
            helperState: 'ready',
          },
        ],
      });
    case 'start_desktop':
      return ok(cmd, { sessionId: cmd.payload.sessionId, answer: ANSWER });
    case 'stop_desktop':
      return ok(cmd, { sessionId: cmd.payload.sessionId, stopped: true });
    default:
      return undefined;
  }
};
