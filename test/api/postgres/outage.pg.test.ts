/**
 * The API while its database is down, on a cluster of its own (stopping the run's shared one would
 * break the other files): requests and new agents are answered 503 `store_unavailable` with
 * Retry-After, agents already connected stay connected, audit lines wait in memory, and everything
 * resumes when PostgreSQL is back, without a restart of the API. The password never reaches the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import type { PgAuditLog } from '../../../src/api/postgres/pg-audit.js';
import type { Logger } from '../../../src/log/logger.js';
import {
  createTestDatabase,
  findPostgresBin,
  startPrivatePostgres,
  type PrivatePostgres,
  type TestDatabase,
} from '../../fixtures/postgres.js';
import { waitFor } from '../../fixtures/wait-for.js';
import { connectAgent, healthyAgent } from '../harness.js';
import pg from 'pg';

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const log: Logger & { lines: string[] } = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

describe.skipIf(!findPostgresBin())('the API when PostgreSQL goes down and comes back', () => {
  let cluster: PrivatePostgres;
  let db: TestDatabase;
  let server: ApiServer;
  const log = recordingLog();
  let viewerToken = '';

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    db = await createTestDatabase(cluster.url);
    server = await startApiServer({
      dataDir: '/nonexistent',
      database: db.url,
      port: 0,
      heartbeatMs: 100,
      log,
    });
    viewerToken = await server.issueViewerToken('alice');
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.destroy();
  });

  const devices = () =>
    fetch(`${server.url}/api/devices`, { headers: { authorization: `Bearer ${viewerToken}` } });

  it('answers 503 store_unavailable, keeps connected agents, queues audit lines, then recovers', async () => {
    expect(server.store.kind).toBe('postgres');
    const a = await server.addDevice('stays connected');
    const b = await server.addDevice('leaves during the outage');
    const keep = await connectAgent(server, a, healthyAgent);
    const leave = await connectAgent(server, b, healthyAgent);
    expect((await devices()).status).toBe(200);

    await cluster.stop();
    const down = await devices();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    await expect(connectAgent(server, a, healthyAgent)).rejects.toThrow('HTTP 503');
    // Heartbeats that cannot read the device list keep the agents rather than drop them.
    const beatsBefore = log.lines.filter((l) => l.includes('cannot read the store')).length;
    await waitFor(
      () => log.lines.filter((l) => l.includes('cannot read the store')).length >= beatsBefore + 3,
      {
        what: 'three heartbeats during the outage',
      },
    );
    expect(keep.ws.readyState).toBe(keep.ws.OPEN);
    await leave.close();
    const audit = server.audit as PgAuditLog;
    await waitFor(() => audit.pending > 0, { what: 'the disconnect line to wait in memory' });

    await cluster.start();
    const up = await waitFor(async () => ((await devices()).status === 200 ? true : undefined), {
      what: 'the API to reach the database again',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    expect(up).toBe(true);
    expect(keep.ws.readyState).toBe(keep.ws.OPEN);
    await server.audit.flush();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ action: string; device: string }>(
        `SELECT action, device FROM audit_log WHERE action = 'agent_disconnected'`,
      );
      expect(rows).toContainEqual({ action: 'agent_disconnected', device: b.id });
    } finally {
      await c.end();
    }
    await keep.close();
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain(cluster.password);
    expect(log.lines.join('\n')).toContain('127.0.0.1');
  });
});
