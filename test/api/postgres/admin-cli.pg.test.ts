/**
 * The admin commands against a PostgreSQL store (`--database`, or PORTHOLE_API_DATABASE), as real
 * processes: what they write is what a running API on that database sees, their audit lines land in
 * the audit table, and neither output nor errors show the password.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from '../../fixtures/postgres.js';

const adminUrl = inject('pgAdminUrl');
const bin = fileURLToPath(new URL('../../../bin/porthole.js', import.meta.url));

function porthole(env: Record<string, string>, ...args: string[]) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'api', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!adminUrl)('porthole api admin commands on PostgreSQL', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let api: ApiServer;
  beforeAll(async () => {
    db = await createTestDatabase(adminUrl);
    api = await startApiServer({ dataDir: '/nonexistent', database: db.url, port: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('adds a device, issues a token and creates an enrollment key that the running API uses', async () => {
    const password = new URL(db.url).password;
    const viaFlag = ['--database', db.url];
    const device = await porthole({}, 'device', 'add', 'reception', ...viaFlag, '--json');
    expect(device.status, device.stderr).toBe(0);
    const { id } = JSON.parse(device.stdout) as { id: string };
    // The environment variable works the same, and keeps the URL off the command line.
    const token = await porthole({ PORTHOLE_API_DATABASE: db.url }, 'token', 'issue', 'admin', '--json');
    expect(token.status, token.stderr).toBe(0);
    const viewer = (JSON.parse(token.stdout) as { token: string }).token;
    const r = await fetch(`${api.url}/api/devices`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(((await r.json()) as { devices: { id: string }[] }).devices.map((d) => d.id)).toEqual([id]);

    const key = await porthole({}, 'enroll-key', 'create', '--name', 'wave-1', ...viaFlag, '--json');
    expect(key.status, key.stderr).toBe(0);
    const list = await porthole({}, 'enroll-key', 'list', ...viaFlag, '--json');
    expect(JSON.parse(list.stdout)).toMatchObject({ enrollKeys: [{ name: 'wave-1', state: 'active' }] });
    const renamed = await porthole({}, 'device', 'rename', id, 'front desk', ...viaFlag);
    expect(renamed.status, renamed.stderr).toBe(0);
    expect((await api.store.device(id))?.name).toBe('front desk');

    await api.audit.flush();
    const actions = await porthole({}, 'device', 'list', ...viaFlag);
    expect(actions.stdout).toContain('front desk');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ action: string; remote: string }>(
        `SELECT action, line->>'remote' AS remote FROM audit_log WHERE line->>'remote' = 'cli' ORDER BY id`,
      );
      expect(rows.map((x) => x.action)).toEqual(['enroll_key_created', 'device_renamed']);
    } finally {
      await c.end();
    }
    for (const out of [device, token, key, list, renamed])
      expect(out.stdout + out.stderr).not.toContain(password);
  });

  it('fails with the URL redacted when the database cannot be reached', async () => {
    const r = await porthole(
      {},
      'device',
      'list',
      '--database',
      'postgres://porthole:hunter2@127.0.0.1:1/porthole',
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('postgres://porthole:***@127.0.0.1:1/porthole');
    expect(r.stderr).not.toContain('hunter2');
  });
});
