/**
 * The PostgreSQL schema as numbered migrations, kept as TypeScript strings so that `tsc` ships them
 * in dist/ with the code that needs them (no data files to copy into the package). Never edit one
 * that was released: add the next number. `migrate()` runs at every start of the API (and of each
 * admin command) under an advisory lock, so several instances starting at once apply each migration
 * exactly once; `schema_migrations` records what was applied.
 */
import type { Pool } from 'pg';
import { StoreError } from '../store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The key of the session advisory lock held while migrating ('porthole' in ASCII, as a bigint). */
export const MIGRATION_LOCK_KEY = '8101820098956717157';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'devices, viewer tokens, enrollment keys, audit log',
    sql: `
CREATE TABLE devices (
  seq bigserial NOT NULL UNIQUE,
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
  token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  enrolled jsonb
);

-- Named long-lived tokens, one-time login tokens (once) and the session tokens a login mints
-- (expires_at, not once): one table, as in the JSON store.
CREATE TABLE viewer_tokens (
  seq bigserial PRIMARY KEY,
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  once boolean NOT NULL DEFAULT false,
  expires_at timestamptz,
  view_only boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX viewer_tokens_named_unique ON viewer_tokens (name) WHERE NOT once AND expires_at IS NULL;
CREATE INDEX viewer_tokens_name ON viewer_tokens (name);
CREATE INDEX viewer_tokens_expiry ON viewer_tokens (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE enroll_keys (
  seq bigserial NOT NULL UNIQUE,
  id text PRIMARY KEY CHECK (id ~ '^ek-[a-z2-9]{10}$'),
  name text,
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  max_uses integer NOT NULL CHECK (max_uses BETWEEN 1 AND 1000000),
  uses integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  revoked_at timestamptz
);

-- The audit trail of every API instance; line is the whole event as audit.jsonl would hold it.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  action text NOT NULL,
  viewer text,
  device text,
  ok boolean NOT NULL,
  line jsonb NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_device_time ON audit_log (device, time) WHERE device IS NOT NULL;
`,
  },
];

/**
 * Applies the migrations this database lacks, each in its own transaction, under a session advisory
 * lock. Refuses (StoreError `schema`) a database migrated by a newer porthole, whose schema this one
 * cannot know. Returns the versions it applied.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Neither waiting for another instance's migration nor a long migration is a stuck statement:
    // lift the pool's statement timeout for this session (reset before the client goes back).
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      const latest = Math.max(0, ...migrations.map((m) => m.version));
      const newer = [...done].filter((v) => v > latest);
      if (newer.length > 0) {
        throw new StoreError(
          'schema',
          `the database schema is at version ${Math.max(...newer)}, newer than this porthole knows (${latest}); ` +
            'upgrade porthole, or point it at another database',
        );
      }
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await client
        .query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY])
        .catch((err: Error) => {
          broken = err;
        });
      await client.query('RESET statement_timeout').catch((err: Error) => {
        broken = err;
      });
    }
  } finally {
    // A client whose unlock or reset failed may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}
