/**
 * `porthole api migrate-store --from json --to postgres`: copies a data dir's store.json (devices,
 * unexpired viewer and session tokens, enrollment keys) and audit.jsonl into an empty PostgreSQL
 * database, in one transaction. Run it with the API stopped (a server writing store.json meanwhile
 * would lose what it writes after the read). A second run against the database it filled finds the
 * same records and writes nothing; any other non-empty database is refused.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../log/logger.js';
import { AUDIT_FILE, type AuditLine } from './audit-log.js';
import { JsonApiStore, STORE_FILE } from './json-store.js';
import { StoreError } from './store.js';

export interface MigrateStoreOptions {
  dataDir: string;
  database: string;
  log: Logger;
  /** One line per step, for the operator (counts only, never a secret). */
  progress?: (line: string) => void;
}

export interface MigrateStoreResult {
  devices: number;
  viewerTokens: number;
  enrollKeys: number;
  auditLines: number;
  /** audit.jsonl lines that were not audit lines (not JSON, or no time/action/ok): left out. */
  auditSkipped: number;
  alreadyDone: boolean;
}

export async function migrateJsonToPostgres(o: MigrateStoreOptions): Promise<MigrateStoreResult> {
  const say = o.progress ?? (() => undefined);
  if (!existsSync(join(o.dataDir, STORE_FILE))) {
    throw new StoreError(
      'not_found',
      `no ${STORE_FILE} in ${o.dataDir}: nothing to migrate (check --data-dir)`,
    );
  }
  const json = JsonApiStore.open(o.dataDir);
  const now = Date.now();
  const devices = await json.devices();
  const viewerTokens = await json.viewerTokens(now);
  const enrollKeys = await json.enrollKeys();
  say(
    `read ${json.file}: ${devices.length} devices, ${viewerTokens.length} viewer tokens, ${enrollKeys.length} enrollment keys`,
  );
  const { openPgBackend } = await import('./postgres/pg-backend.js');
  const { importIntoEmptyDatabase } = await import('./postgres/pg-import.js');
  const pg = await openPgBackend(o.database, { log: o.log, poolMax: 2 });
  say(
    `database ${pg.store.location}: schema ${pg.migrated.length > 0 ? `migrated (${pg.migrated.join(', ')})` : 'current'}`,
  );
  const skipped = { count: 0 };
  try {
    const result = await importIntoEmptyDatabase(
      pg.pool,
      { devices, viewerTokens, enrollKeys, audit: auditLines(join(o.dataDir, AUDIT_FILE), skipped) },
      (what, done, total) => say(`copied ${what}: ${done}${total !== undefined ? `/${total}` : ''}`),
    );
    return { ...result, auditSkipped: skipped.count };
  } finally {
    await pg.close();
  }
}

/** The lines of audit.jsonl that look like audit lines, oldest first; counts the others. */
async function* auditLines(file: string, skipped: { count: number }): AsyncIterable<AuditLine> {
  if (!existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      skipped.count++;
      continue;
    }
    if (isAuditLine(line)) yield line;
    else skipped.count++;
  }
}

function isAuditLine(v: unknown): v is AuditLine {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return (
    typeof l.time === 'string' &&
    !Number.isNaN(Date.parse(l.time)) &&
    typeof l.action === 'string' &&
    typeof l.ok === 'boolean' &&
    (l.viewer === null || typeof l.viewer === 'string') &&
    (l.device === null || typeof l.device === 'string')
  );
}
