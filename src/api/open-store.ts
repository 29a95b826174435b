/**
 * Picks the store backend: the JSON file in the data dir (default), or PostgreSQL when a database URL
 * is given. Each comes with its audit writer: audit.jsonl beside store.json, or the `audit_log` table.
 * The PostgreSQL code (and the `pg` client) loads only when it is asked for.
 */
import type { Logger } from '../log/logger.js';
import type { Timers } from '../time/timers.js';
import { AuditLog, type AuditSink } from './audit-log.js';
import { JsonApiStore } from './json-store.js';
import type { ApiStore } from './store.js';

export interface StoreBackendOptions {
  /** The JSON store's directory (unused with a database). */
  dataDir: string;
  /** `postgres://…`: the PostgreSQL store instead of the JSON file. */
  database?: string | undefined;
  log: Logger;
  timers?: Timers;
  /** PostgreSQL only: prune the audit table to this many days (the server; admin commands never prune). */
  auditRetentionDays?: number;
}

export interface StoreBackend {
  store: ApiStore;
  audit: AuditSink;
  /** Flushes the audit writer, then releases the store's connections. */
  close(): Promise<void>;
}

export async function openStoreBackend(o: StoreBackendOptions): Promise<StoreBackend> {
  if (o.database === undefined) {
    const store = JsonApiStore.open(o.dataDir);
    const audit = AuditLog.open(o.dataDir, o.log);
    return { store, audit, close: () => audit.close() };
  }
  const { openPgBackend } = await import('./postgres/pg-backend.js');
  return openPgBackend(o.database, {
    log: o.log,
    ...(o.timers ? { timers: o.timers } : {}),
    ...(o.auditRetentionDays !== undefined ? { auditRetentionDays: o.auditRetentionDays } : {}),
  });
}

/** Runs `use` on a freshly opened backend and closes it afterwards (the admin commands). */
export async function withStoreBackend<T>(
  o: StoreBackendOptions,
  use: (b: StoreBackend) => Promise<T>,
): Promise<T> {
  const backend = await openStoreBackend(o);
  try {
    return await use(backend);
  } finally {
    await backend.close();
  }
}
