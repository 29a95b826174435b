/**
 * The PostgreSQL store: the shared store contract, its migrations (versioned, under an advisory lock,
 * idempotent, refusing a newer schema), secrets at rest, the audit table, and the database URL never
 * shown with its password. Each test gets its own database in the run's private cluster.
 */
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openPgBackend, type PgBackend } from '../../../src/api/postgres/pg-backend.js';
import { migrate, MIGRATIONS } from '../../../src/api/postgres/migrations.js';
import {
  checkDatabaseUrl,
  redactDatabaseUrl,
  scrubPassword,
} from '../../../src/api/postgres/database-url.js';
import { isConnectionFailure } from '../../../src/api/postgres/pg-store.js';
import { StoreError, type ApiStore } from '../../../src/api/store.js';
import { silentLogger, type Logger } from '../../../src/log/logger.js';
import { createTestDatabase, POSTGRES_MISSING, type TestDatabase } from '../../fixtures/postgres.js';
import { describeStoreContract } from '../store-contract.js';

const adminUrl = inject('pgAdminUrl');
if (!adminUrl) console.warn(POSTGRES_MISSING);

interface Opened {
  db: TestDatabase;
  backends: PgBackend[];
}
const opened = new Map<ApiStore, Opened>();
const databases: Opened[] = [];

async function openOn(entry: Opened): Promise<ApiStore> {
  const backend = await openPgBackend(entry.db.url, { log: silentLogger, poolMax: 4 });
  entry.backends.push(backend);
  opened.set(backend.store, entry);
  return backend.store;
}

async function dropAll(): Promise<void> {
  for (const entry of databases.splice(0)) {
    for (const b of entry.backends) await b.close();
    await entry.db.drop();
  }
  opened.clear();
}

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

describe.skipIf(!adminUrl)('PostgreSQL store', () => {
  describeStoreContract('PostgreSQL', {
    async open() {
      const entry: Opened = { db: await createTestDatabase(adminUrl), backends: [] };
      databases.push(entry);
      return openOn(entry);
    },
    async reopen(store) {
      const entry = opened.get(store);
      if (!entry) throw new Error('not a store this factory opened');
      return openOn(entry);
    },
    cleanup: dropAll,
  });

  describe('migrations', () => {
    afterEach(dropAll);

    async function fresh(): Promise<Opened> {
      const entry: Opened = { db: await createTestDatabase(adminUrl), backends: [] };
      databases.push(entry);
      return entry;
    }

    it('applies each version once, recorded in schema_migrations, and nothing on the next start', async () => {
      const entry = await fresh();
      const first = await openPgBackend(entry.db.url, { log: silentLogger });
      entry.backends.push(first);
      expect(first.migrated).toEqual(MIGRATIONS.map((m) => m.version));
      const second = await openPgBackend(entry.db.url, { log: silentLogger });
      entry.backends.push(second);
      expect(second.migrated).toEqual([]);
      const { rows } = await first.pool.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    });

    it('migrates once when several instances start at the same moment (advisory lock)', async () => {
      const entry = await fresh();
      const backends = await Promise.all(
        Array.from({ length: 5 }, () => openPgBackend(entry.db.url, { log: silentLogger, poolMax: 2 })),
      );
      entry.backends.push(...backends);
      expect(backends.map((b) => b.migrated.length).sort()).toEqual([0, 0, 0, 0, MIGRATIONS.length]);
    });

    it('applies a later migration to a database at an earlier version, in order', async () => {
      const entry = await fresh();
      const base = await openPgBackend(entry.db.url, { log: silentLogger });
      entry.backends.push(base);
      const next = {
        version: MIGRATIONS.length + 1,
        name: 'a test column',
        sql: 'ALTER TABLE devices ADD COLUMN note text',
      };
      expect(await migrate(base.pool, [...MIGRATIONS, next])).toEqual([next.version]);
      expect(await migrate(base.pool, [...MIGRATIONS, next])).toEqual([]);
      const cols = await base.pool.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'devices' AND column_name = 'note'`,
      );
      expect(cols.rowCount).toBe(1);
    });

    it('rolls back a migration that fails, leaving its version unrecorded', async () => {
      const entry = await fresh();
      const base = await openPgBackend(entry.db.url, { log: silentLogger });
      entry.backends.push(base);
      const bad = {
        version: MIGRATIONS.length + 1,
        name: 'broken',
        sql: 'CREATE TABLE half (x int); SELECT nope FROM nowhere',
      };
      await expect(migrate(base.pool, [...MIGRATIONS, bad])).rejects.toThrow(/nowhere/);
      const half = await base.pool.query(`SELECT to_regclass('half') AS t`);
      expect(half.rows[0].t).toBeNull();
      const v = await base.pool.query('SELECT max(version) AS v FROM schema_migrations');
      expect(v.rows[0].v).toBe(MIGRATIONS.length);
    });

    it('refuses a database migrated by a newer porthole, naming both versions', async () => {
      const entry = await fresh();
      const base = await openPgBackend(entry.db.url, { log: silentLogger });
      entry.backends.push(base);
      await base.pool.query(`INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')`);
      const err = await openPgBackend(entry.db.url, { log: silentLogger }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({
        code: 'schema',
        message: expect.stringMatching(/version 99, newer than this porthole knows \(1\)/),
      });
    });
  });

  describe('secrets and the database URL', () => {
    afterEach(dropAll);

    it('stores only SHA-256 hashes: no token, key or device secret appears in any table', async () => {
      const entry: Opened = { db: await createTestDatabase(adminUrl), backends: [] };
      databases.push(entry);
      const store = await openOn(entry);
      const device = await store.addDevice('pc');
      const viewer = await store.issueViewerToken('alice');
      const login = await store.issueViewerToken('alice', { once: true, ttlMs: 60_000 });
      const { key } = await store.createEnrollKey({ maxUses: 2, ttlMs: 3_600_000 });
      const enrolled = await store.enrollDevice(key, {
        hostname: 'h',
        os: 'linux',
        arch: 'x64',
        agentVersion: '1',
      });
      const c = new pg.Client({ connectionString: entry.db.url });
      await c.connect();
      try {
        let dump = '';
        for (const table of ['devices', 'viewer_tokens', 'enroll_keys', 'audit_log']) {
          dump += JSON.stringify((await c.query(`SELECT * FROM ${table}`)).rows);
        }
        for (const secret of [device.token, viewer.token, login.token, key, enrolled.token]) {
          expect(dump).not.toContain(secret);
        }
        expect(dump).toContain(device.device.tokenHash);
      } finally {
        await c.end();
      }
    });

    it('never shows the password: location, URL checks and an unreachable database', async () => {
      const password = 'S3cret-pass%2Fword';
      const url = `postgres://porthole:${password}@127.0.0.1:1/porthole?sslpassword=also-secret`;
      expect(redactDatabaseUrl(url)).toBe('postgres://porthole:***@127.0.0.1:1/porthole?sslpassword=***');
      expect(redactDatabaseUrl('not a url with hunter2')).not.toContain('hunter2');
      expect(scrubPassword(`failed for ${password} and S3cret-pass/word`, url)).toBe(
        'failed for *** and ***',
      );
      expect(() => checkDatabaseUrl(`mysql://u:${password}@h/db`)).toThrow(/postgres:\/\//);
      expect(() => checkDatabaseUrl(`mysql://u:${password}@h/db`)).not.toThrow(/S3cret/);
      const log = recordingLog();
      const err = await openPgBackend(url, { log, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('unavailable');
      expect((err as StoreError).message).toContain('postgres://porthole:***@127.0.0.1:1/porthole');
      expect((err as StoreError).message).not.toMatch(/S3cret/);
      expect(log.lines.join('\n')).not.toMatch(/S3cret/);
    });

    it('tells connection failures from query errors', () => {
      expect(
        isConnectionFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      ).toBe(true);
      expect(isConnectionFailure(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
        true,
      );
      expect(isConnectionFailure(Object.assign(new Error('too many clients'), { code: '53300' }))).toBe(true);
      expect(isConnectionFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
      expect(isConnectionFailure(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
      expect(isConnectionFailure(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    });
  });

  describe('the audit table', () => {
    afterEach(dropAll);

    it('keeps every line, in order, with its fields; flush waits for them', async () => {
      const entry: Opened = { db: await createTestDatabase(adminUrl), backends: [] };
      databases.push(entry);
      const backend = await openPgBackend(entry.db.url, { log: silentLogger, audit: { batch: 7 } });
      entry.backends.push(backend);
      for (let i = 0; i < 50; i++) {
        backend.audit.record({
          viewer: 'alice',
          device: `dev-${i}`,
          action: 'list_sessions',
          ok: i % 2 === 0,
          remote: '10.0.0.1',
        });
      }
      backend.audit.record({
        viewer: null,
        device: null,
        action: 'login',
        ok: false,
        code: 'unauthorized',
        remote: '::1',
      });
      await backend.audit.flush();
      expect(backend.audit.pending).toBe(0);
      const { rows } = await backend.pool.query<{
        action: string;
        device: string | null;
        ok: boolean;
        line: Record<string, unknown>;
      }>('SELECT action, device, ok, line FROM audit_log ORDER BY id');
      expect(rows).toHaveLength(51);
      expect(rows.slice(0, 50).map((r) => r.device)).toEqual(
        Array.from({ length: 50 }, (_, i) => `dev-${i}`),
      );
      expect(rows[1]).toMatchObject({ action: 'list_sessions', ok: false });
      expect(rows[50]?.line).toMatchObject({
        viewer: null,
        action: 'login',
        ok: false,
        code: 'unauthorized',
        remote: '::1',
      });
      expect(Date.parse(String(rows[50]?.line.time))).not.toBeNaN();
    });
  });
});
