/**
 * Opens the PostgreSQL backend: one connection pool shared by the store and the audit writer,
 * migrated before first use. The pool reconnects by itself: a connection that breaks (the server
 * restarted, a network cut) is dropped and the next query opens a new one, so the API comes back as
 * soon as the database does. While it cannot, store calls fail fast (`connectionTimeoutMillis`) with
 * StoreError `unavailable`, which the API answers 503 `store_unavailable` (design/API.md).
 */
import pg, { type Pool } from 'pg';
import type { Logger } from '../../log/logger.js';
import type { Timers } from '../../time/timers.js';
import { errorMessage } from '../../errors/error-text.js';
import { StoreError } from '../store.js';
import { checkDatabaseUrl, redactDatabaseUrl, scrubPassword } from './database-url.js';
import { migrate } from './migrations.js';
import { isConnectionFailure, PgApiStore } from './pg-store.js';
import { PgAuditLog, type PgAuditOptions } from './pg-audit.js';
import { AuditRetention } from './audit-retention.js';

export interface PgBackendOptions {
  log: Logger;
  /** Connections per API instance (default 10). */
  poolMax?: number;
  /** How long a query waits for a connection before failing with `unavailable` (default 5 s). */
  connectTimeoutMs?: number;
  /** Server-side limit on one statement (default 15 s): a stuck query must not hold a request forever. */
  statementTimeoutMs?: number;
  audit?: PgAuditOptions;
  /** Prune audit lines older than this many days, at start and daily (absent: never, as admin commands). */
  auditRetentionDays?: number;
  timers?: Timers;
}

export interface PgBackend {
  store: PgApiStore;
  /** The pool the store and the audit writer share (migrate-store copies through it). */
  pool: Pool;
  audit: PgAuditLog;
  /** Migration versions this start applied (empty when the schema was current). */
  migrated: number[];
  close(): Promise<void>;
}

export async function openPgBackend(url: string, o: PgBackendOptions): Promise<PgBackend> {
  checkDatabaseUrl(url);
  const location = redactDatabaseUrl(url);
  const scrub = (text: string) => scrubPassword(text, url);
  const pool = new pg.Pool({
    connectionString: url,
    max: o.poolMax ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: o.statementTimeoutMs ?? 15_000,
    application_name: 'porthole-api',
  });
  // An idle connection that breaks is reported here; without a listener it would crash the process.
  pool.on('error', (err) =>
    o.log.warn({ err: scrub(errorMessage(err)), database: location }, 'database connection lost'),
  );
  let migrated: number[];
  try {
    migrated = await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof StoreError) throw err;
    const why = scrub(errorMessage(err));
    throw new StoreError(
      isConnectionFailure(err) ? 'unavailable' : 'schema',
      `cannot open the database ${location}: ${why}`,
      { cause: err },
    );
  }
  if (migrated.length > 0) o.log.info({ database: location, migrated }, 'database schema migrated');
  const store = new PgApiStore(pool, location, scrub);
  const audit = new PgAuditLog(pool, o.log, { ...o.audit, scrub, ...(o.timers ? { timers: o.timers } : {}) });
  const retention =
    o.auditRetentionDays !== undefined
      ? new AuditRetention(pool, {
          days: o.auditRetentionDays,
          log: o.log,
          scrub,
          ...(o.timers ? { timers: o.timers } : {}),
        })
      : undefined;
  retention?.start();
  let closing: Promise<void> | undefined;
  return {
    store,
    audit,
    pool,
    migrated,
    close() {
      closing ??= (async () => {
        await retention?.stop();
        await audit.close();
        await store.close();
      })();
      return closing;
    },
  };
}
