/**
 * `porthole api migrate-store --from json --to postgres` as a real process: everything in the data dir
 * (devices with their enrollment, named/login/session/view-only tokens, enrollment keys with their
 * uses, the audit log) arrives in the database and keeps working there; a repeated run copies nothing;
 * a database holding other data is refused; progress goes to stderr; the password is never printed.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { AuditLog } from '../../../src/api/audit-log.js';
import { JsonApiStore } from '../../../src/api/json-store.js';
import { openPgBackend } from '../../../src/api/postgres/pg-backend.js';
import { startApiServer } from '../../../src/api/server.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createTestDatabase, type TestDatabase } from '../../fixtures/postgres.js';

const adminUrl = inject('pgAdminUrl');
const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));
const DAY = 86_400_000;

function porthole(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PORTHOLE_API_DATABASE: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!adminUrl)('porthole api migrate-store', { timeout: 120_000 }, () => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
  });

  it('copies a JSON store and its audit log into PostgreSQL, where it keeps working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-migrate-'));
    const json = JsonApiStore.open(dir);
    const manual = await json.addDevice('front desk');
    const { key } = await json.createEnrollKey({ name: 'rollout', maxUses: 3, ttlMs: 7 * DAY });
    const enrolled = await json.enrollDevice(key, {
      hostname: 'lab-7',
      os: 'win32',
      arch: 'x64',
      agentVersion: '0.1.0',
    });
    const revoked = await json.createEnrollKey({ maxUses: 1, ttlMs: DAY });
    await json.revokeEnrollKey(revoked.record.id);
    const named = await json.issueViewerToken('alice');
    const watcher = await json.issueViewerToken('watcher', { viewOnly: true });
    const login = await json.issueViewerToken('bob', { once: true, ttlMs: 600_000 });
    const session = await json.issueViewerToken('carol', { ttlMs: 3_600_000 });
    const audit = AuditLog.open(dir, silentLogger);
    for (let i = 0; i < 1500; i++) {
      audit.record({
        viewer: 'alice',
        device: manual.device.id,
        action: 'list_sessions',
        ok: true,
        remote: '10.0.0.1',
      });
    }
    await audit.close();
    appendFileSync(join(dir, 'audit.jsonl'), 'not json\n{"time":"x"}\n');
    const db = await createTestDatabase(adminUrl);
    dbs.push(db);
    const password = new URL(db.url).password;

    const run = await porthole(
      'api',
      'migrate-store',
      '--from',
      'json',
      '--to',
      'postgres',
      '--data-dir',
      dir,
      '--database',
      db.url,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Copied 2 devices, 4 viewer tokens, 2 enrollment keys and 1500 audit lines \(2 unreadable/,
    );
    expect(run.stderr).toMatch(/migrate-store: copied audit lines: 1000\n/);
    expect(run.stderr).toMatch(/migrate-store: copied devices: 2\/2/);
    expect(run.stderr).toContain('postgres://porthole_test:***@');
    expect(run.stdout + run.stderr).not.toContain(password);

    const pgb = await openPgBackend(db.url, { log: silentLogger });
    try {
      const store = pgb.store;
      expect(await store.devices()).toEqual(await json.devices());
      expect(await store.enrollKeys()).toEqual(await json.enrollKeys());
      expect(await store.viewerTokens()).toEqual(await json.viewerTokens());
      expect((await store.authenticateDevice(enrolled.device.id, enrolled.token))?.enrolled?.hostname).toBe(
        'lab-7',
      );
      expect((await store.findViewerToken(watcher.token))?.viewOnly).toBe(true);
      const stored = await store.findViewerToken(login.token);
      expect(stored && (await store.consumeViewerToken(stored))).toBe(true);
      expect(
        (
          await store.enrollDevice(key, {
            hostname: 'lab-8',
            os: 'linux',
            arch: 'x64',
            agentVersion: '0.1.0',
          })
        ).keyId,
      ).toBe(enrolled.keyId);
      const lines = await pgb.pool.query('SELECT count(*)::int AS n FROM audit_log');
      expect(lines.rows[0].n).toBe(1500);
    } finally {
      await pgb.close();
    }

    // The API on the database accepts what the JSON store issued.
    const api = await startApiServer({ dataDir: '/nonexistent', database: db.url, port: 0 });
    try {
      for (const token of [named.token, session.token]) {
        const r = await fetch(`${api.url}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
        expect(r.status).toBe(200);
      }
    } finally {
      await api.close();
    }
  });

  it('copies nothing on a repeated run, and refuses a database that holds other data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-migrate-'));
    const json = JsonApiStore.open(dir);
    await json.addDevice('one');
    await json.issueViewerToken('alice');
    const db = await createTestDatabase(adminUrl);
    dbs.push(db);
    const args = [
      'api',
      'migrate-store',
      '--from',
      'json',
      '--to',
      'postgres',
      '--data-dir',
      dir,
      '--database',
      db.url,
    ];
    expect((await porthole(...args)).status).toBe(0);
    const again = await porthole(...args, '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyDone: true, devices: 1, viewerTokens: 1 });

    await json.addDevice('added after the first copy');
    const differs = await porthole(...args);
    expect(differs.status).toBe(1);
    expect(differs.stderr).toMatch(
      /the database is not empty \(1 devices, 1 viewer tokens.*copies into an empty database only/,
    );
    const pgb = await openPgBackend(db.url, { log: silentLogger });
    try {
      expect(await pgb.store.devices()).toHaveLength(1);
    } finally {
      await pgb.close();
    }
  });

  it('refuses a data dir without a store, and other directions, saying what to fix', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'porthole-migrate-'));
    const db = await createTestDatabase(adminUrl);
    dbs.push(db);
    const none = await porthole(
      'api',
      'migrate-store',
      '--from',
      'json',
      '--to',
      'postgres',
      '--data-dir',
      empty,
      '--database',
      db.url,
    );
    expect([none.status, none.stderr]).toEqual([
      1,
      expect.stringMatching(/no store.json in .*nothing to migrate/),
    ]);
    const back = await porthole(
      'api',
      'migrate-store',
      '--from',
      'postgres',
      '--to',
      'json',
      '--database',
      db.url,
    );
    expect([back.status, back.stderr]).toEqual([2, expect.stringMatching(/only --from json --to postgres/)]);
    const noDb = await porthole(
      'api',
      'migrate-store',
      '--from',
      'json',
      '--to',
      'postgres',
      '--data-dir',
      empty,
    );
    expect([noDb.status, noDb.stderr]).toEqual([2, expect.stringMatching(/--database/)]);
  });
});
