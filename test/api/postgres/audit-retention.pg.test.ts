/**
 * The audit table's retention: lines older than the setting are deleted when the API starts and then
 * once a day (on a fake clock here), newer ones are kept.
 */
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { openPgBackend, type PgBackend } from '../../../src/api/postgres/pg-backend.js';
import { AuditRetention, PRUNE_EVERY_MS } from '../../../src/api/postgres/audit-retention.js';
import { silentLogger } from '../../../src/log/logger.js';
import { createTestDatabase, type TestDatabase } from '../../fixtures/postgres.js';
import { FakeClock } from '../../fixtures/fake-clock.js';
import { waitFor } from '../../fixtures/wait-for.js';

const adminUrl = inject('pgAdminUrl');
const DAY = 86_400_000;
const NOW = Date.parse('2031-06-01T00:00:00.000Z');

describe.skipIf(!adminUrl)('audit log retention on PostgreSQL', () => {
  let db: TestDatabase;
  let backend: PgBackend;
  beforeEach(async () => {
    db = await createTestDatabase(adminUrl);
    backend = await openPgBackend(db.url, { log: silentLogger });
  });
  afterEach(async () => {
    await backend.close();
    await db.drop();
  });

  /** Lines at these ages (days before NOW), written straight into the table. */
  async function linesAged(...days: number[]): Promise<void> {
    for (const d of days) {
      const time = new Date(NOW - d * DAY);
      const line = { time: time.toISOString(), viewer: null, device: null, action: 'login', ok: true };
      await backend.pool.query(
        'INSERT INTO audit_log (time, action, viewer, device, ok, line) VALUES ($1, $2, $3, $4, $5, $6)',
        [time, 'login', null, null, true, line],
      );
    }
  }

  async function ages(): Promise<number[]> {
    const { rows } = await backend.pool.query<{ time: Date }>('SELECT time FROM audit_log ORDER BY time');
    return rows.map((r) => Math.round((NOW - r.time.getTime()) / DAY)).sort((a, b) => b - a);
  }

  it('deletes lines older than the retention at start and then daily, keeping the rest', async () => {
    await linesAged(400, 366, 364, 10, 0);
    const clock = new FakeClock();
    let now = NOW;
    const retention = new AuditRetention(backend.pool, {
      days: 365,
      log: silentLogger,
      timers: clock,
      now: () => now,
    });
    retention.start();
    await waitFor(async () => (await ages()).length === 3, { what: 'the start-up prune' });
    expect(await ages()).toEqual([364, 10, 0]);
    await waitFor(() => clock.pending.length === 1, { what: 'the next prune to be scheduled' });
    expect(clock.pending).toEqual([PRUNE_EVERY_MS]);

    // Two days later the 364-day-old line has passed the retention.
    now = NOW + 2 * DAY;
    await clock.advance(PRUNE_EVERY_MS);
    await waitFor(async () => (await ages()).length === 2, { what: 'the daily prune' });
    expect(await ages()).toEqual([10, 0]);
    await retention.stop();
  });

  it('is what the API server runs with --audit-retention-days', async () => {
    await linesAged(40, 20);
    const pruned = await new AuditRetention(backend.pool, {
      days: 30,
      log: silentLogger,
      now: () => NOW,
    }).pruneOnce();
    expect(pruned).toBe(1);
    expect(await ages()).toEqual([20]);
  });
});
