/**
 * Bulk copy of a store's records into an empty PostgreSQL database (`porthole api migrate-store`).
 * One transaction: the copy is whole or absent. The tables are locked (EXCLUSIVE: readers go on, no
 * writer) while the target is checked and filled, so an API instance or a second migrate-store
 * cannot write between the check and the copy.
 */
import type { Pool, PoolClient } from 'pg';
import type { EnrollKeyRecord } from '../enroll-keys.js';
import type { AuditLine } from '../audit-log.js';
import { StoreError, type DeviceRecord, type ViewerTokenRecord } from '../store.js';

export interface ImportData {
  devices: readonly DeviceRecord[];
  viewerTokens: readonly ViewerTokenRecord[];
  enrollKeys: readonly EnrollKeyRecord[];
  /** The audit trail, oldest first. */
  audit: AsyncIterable<AuditLine>;
}

export interface ImportResult {
  devices: number;
  viewerTokens: number;
  enrollKeys: number;
  auditLines: number;
  /** The database already held exactly these records (a repeated run): nothing was written. */
  alreadyDone: boolean;
}

export type ImportProgress = (what: string, done: number, total?: number) => void;

const BATCH = 1000;

export async function importIntoEmptyDatabase(
  pool: Pool,
  data: ImportData,
  progress: ImportProgress = () => undefined,
): Promise<ImportResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE devices, viewer_tokens, enroll_keys, audit_log IN EXCLUSIVE MODE');
    const held = await counts(client);
    if (held.devices + held.viewerTokens + held.enrollKeys + held.auditLines > 0) {
      const same = await holdsExactly(client, data);
      await client.query('ROLLBACK');
      if (same) return { ...held, alreadyDone: true };
      throw new StoreError(
        'exists',
        `the database is not empty (${held.devices} devices, ${held.viewerTokens} viewer tokens, ` +
          `${held.enrollKeys} enrollment keys, ${held.auditLines} audit lines) and differs from the JSON ` +
          'store: migrate-store copies into an empty database only (create a new one, or drop these tables)',
      );
    }
    for (let i = 0; i < data.devices.length; i += BATCH) {
      const part = data.devices.slice(i, i + BATCH);
      await client.query(
        `INSERT INTO devices (id, name, token_hash, created_at, enrolled)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])`,
        [
          part.map((d) => d.id),
          part.map((d) => d.name),
          part.map((d) => d.tokenHash),
          part.map((d) => d.createdAt),
          part.map((d) => (d.enrolled ? JSON.stringify(d.enrolled) : null)),
        ],
      );
      progress('devices', i + part.length, data.devices.length);
    }
    for (let i = 0; i < data.viewerTokens.length; i += BATCH) {
      const part = data.viewerTokens.slice(i, i + BATCH);
      await client.query(
        `INSERT INTO viewer_tokens (name, token_hash, created_at, once, expires_at, view_only)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::boolean[], $5::timestamptz[], $6::boolean[])`,
        [
          part.map((t) => t.name),
          part.map((t) => t.tokenHash),
          part.map((t) => t.createdAt),
          part.map((t) => t.once === true),
          part.map((t) => t.expiresAt ?? null),
          part.map((t) => t.viewOnly === true),
        ],
      );
      progress('viewer tokens', i + part.length, data.viewerTokens.length);
    }
    for (let i = 0; i < data.enrollKeys.length; i += BATCH) {
      const part = data.enrollKeys.slice(i, i + BATCH);
      await client.query(
        `INSERT INTO enroll_keys (id, name, key_hash, created_at, expires_at, max_uses, uses, revoked_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                              $6::integer[], $7::integer[], $8::timestamptz[])`,
        [
          part.map((k) => k.id),
          part.map((k) => k.name ?? null),
          part.map((k) => k.keyHash),
          part.map((k) => k.createdAt),
          part.map((k) => k.expiresAt),
          part.map((k) => k.maxUses),
          part.map((k) => k.uses),
          part.map((k) => k.revokedAt ?? null),
        ],
      );
      progress('enrollment keys', i + part.length, data.enrollKeys.length);
    }
    let auditLines = 0;
    let batch: AuditLine[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await client.query(
        `INSERT INTO audit_log (time, action, viewer, device, ok, line)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::jsonb[])`,
        [
          batch.map((l) => l.time),
          batch.map((l) => l.action),
          batch.map((l) => l.viewer),
          batch.map((l) => l.device),
          batch.map((l) => l.ok),
          batch.map((l) => JSON.stringify(l)),
        ],
      );
      auditLines += batch.length;
      batch = [];
      progress('audit lines', auditLines);
    };
    for await (const line of data.audit) {
      batch.push(line);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await client.query('COMMIT');
    return {
      devices: data.devices.length,
      viewerTokens: data.viewerTokens.length,
      enrollKeys: data.enrollKeys.length,
      auditLines,
      alreadyDone: false,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

async function counts(c: PoolClient) {
  const { rows } = await c.query<{ d: string; t: string; k: string; a: string }>(
    `SELECT (SELECT count(*) FROM devices) AS d, (SELECT count(*) FROM viewer_tokens) AS t,
            (SELECT count(*) FROM enroll_keys) AS k, (SELECT count(*) FROM audit_log) AS a`,
  );
  const r = rows[0];
  return {
    devices: Number(r?.d ?? 0),
    viewerTokens: Number(r?.t ?? 0),
    enrollKeys: Number(r?.k ?? 0),
    auditLines: Number(r?.a ?? 0),
  };
}

/** Whether the database holds exactly these devices, tokens and keys (by id and hash). */
async function holdsExactly(c: PoolClient, data: ImportData): Promise<boolean> {
  const devices = await c.query<{ k: string }>(`SELECT id || ' ' || token_hash AS k FROM devices`);
  const tokens = await c.query<{ k: string }>('SELECT token_hash AS k FROM viewer_tokens');
  const keys = await c.query<{ k: string }>(`SELECT id || ' ' || uses AS k FROM enroll_keys`);
  const same = (rows: { k: string }[], want: string[]) => {
    const have = new Set(rows.map((r) => r.k));
    return have.size === want.length && want.every((w) => have.has(w));
  };
  return (
    same(
      devices.rows,
      data.devices.map((d) => `${d.id} ${d.tokenHash}`),
    ) &&
    same(
      tokens.rows,
      data.viewerTokens.map((t) => t.tokenHash),
    ) &&
    same(
      keys.rows,
      data.enrollKeys.map((k) => `${k.id} ${k.uses}`),
    )
  );
}
