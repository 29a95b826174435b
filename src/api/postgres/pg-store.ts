/**
 * The ApiStore on PostgreSQL (`porthole api serve --database postgres://…`): what several API instances
 * share. What the JSON store made atomic with its lock file is atomic in SQL here:
 * - a one-time login token is spent by `DELETE … RETURNING`: of two logins (on any instances) one
 *   gets the row;
 * - an enrollment spends its use with `UPDATE … WHERE uses < max_uses … RETURNING` in the transaction
 *   that adds the device, so the row lock serialises concurrent enrollments with one key;
 * - device names (unique without case for enrollment and rename) are decided under a transaction
 *   advisory lock, since `device add` may still give two devices one name, as in the JSON store;
 * - a named viewer token is unique by a partial unique index.
 * Secrets are looked up by their SHA-256 (an index): unlike a presented password, a 256-bit random
 * token's hash reveals nothing useful through lookup timing. A device token is still compared in
 * constant time after the row is found by id.
 */
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { hashToken, tokenMatches } from '../tokens.js';
import {
  ENROLL_KEY_KEEP_MS,
  EnrollKeyError,
  newEnrollKey,
  spendEnrollKey,
  uniqueDeviceName,
  type EnrolledInfo,
  type EnrollKeyRecord,
} from '../enroll-keys.js';
import {
  deviceName,
  StoreError,
  newDevice,
  newViewerToken,
  tokenName,
  viewerTokenKind,
  type ApiStore,
  type DeviceRecord,
  type EnrollingMachine,
  type ViewerTokenOptions,
  type ViewerTokenRecord,
} from '../store.js';
import { errorMessage } from '../../errors/error-text.js';

/** The transaction advisory lock under which device names are chosen ('devnames'). */
const DEVICE_NAMES_LOCK_KEY = '7234318592893609331';

interface DeviceRow extends QueryResultRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: Date;
  enrolled: EnrolledInfo | null;
}

interface TokenRow extends QueryResultRow {
  name: string;
  token_hash: string;
  created_at: Date;
  once: boolean;
  expires_at: Date | null;
  view_only: boolean;
}

interface KeyRow extends QueryResultRow {
  id: string;
  name: string | null;
  key_hash: string;
  created_at: Date;
  expires_at: Date;
  max_uses: number;
  uses: number;
  revoked_at: Date | null;
}

const DEVICE_COLUMNS = 'id, name, token_hash, created_at, enrolled';
const TOKEN_COLUMNS = 'name, token_hash, created_at, once, expires_at, view_only';
const KEY_COLUMNS = 'id, name, key_hash, created_at, expires_at, max_uses, uses, revoked_at';

export class PgApiStore implements ApiStore {
  readonly kind = 'postgres';

  /** `location` is the database URL without its password. */
  constructor(
    private readonly pool: Pool,
    readonly location: string,
    /** Removes the password from an error text (pg's messages may quote the connection string). */
    private readonly scrub: (text: string) => string = (t) => t,
  ) {}

  async devices(): Promise<readonly DeviceRecord[]> {
    const { rows } = await this.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY seq`);
    return rows.map(deviceRecord);
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    const { rows } = await this.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
    return rows[0] && deviceRecord(rows[0]);
  }

  async presentDevices(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[])', [
      [...ids],
    ]);
    return new Set(rows.map((r) => r.id));
  }

  async authenticateDevice(id: string, token: string): Promise<DeviceRecord | undefined> {
    const device = await this.device(id);
    return device && tokenMatches(token, device.tokenHash) ? device : undefined;
  }

  async addDevice(name: string): Promise<{ device: DeviceRecord; token: string }> {
    deviceName(name, 'name');
    const { device, token } = newDevice(name, Date.now());
    await this.insertDevice(this.pool, device);
    return { device, token };
  }

  async removeDevice(id: string): Promise<boolean> {
    const { rowCount } = await this.query('DELETE FROM devices WHERE id = $1', [id]);
    return rowCount === 1;
  }

  async renameDevice(id: string, name: string): Promise<DeviceRecord> {
    deviceName(name, 'name');
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [DEVICE_NAMES_LOCK_KEY]);
      const { rows } = await c.query<DeviceRow>(
        `UPDATE devices SET name = $2 WHERE id = $1 RETURNING ${DEVICE_COLUMNS}`,
        [id, name],
      );
      if (!rows[0]) throw new StoreError('not_found', `no device with id '${id}'`);
      const clash = await c.query<{ id: string; name: string }>(
        'SELECT id, name FROM devices WHERE id <> $1 AND lower(name) = lower($2) ORDER BY seq LIMIT 1',
        [id, name],
      );
      const other = clash.rows[0];
      if (other) throw new StoreError('exists', `device ${other.id} is already named '${other.name}'`);
      return deviceRecord(rows[0]);
    });
  }

  /** As pruned at the last write (every write prunes), like the JSON store. */
  async enrollKeys(): Promise<readonly EnrollKeyRecord[]> {
    const { rows } = await this.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM enroll_keys ORDER BY seq`);
    return rows.map(keyRecord);
  }

  async createEnrollKey(
    opts: { name?: string; maxUses: number; ttlMs: number },
    now = Date.now(),
  ): Promise<{ key: string; record: EnrollKeyRecord }> {
    if (opts.name !== undefined) tokenName(opts.name, 'name');
    const created = newEnrollKey(opts, now);
    const r = created.record;
    await this.transaction(async (c) => {
      await c.query(
        `INSERT INTO enroll_keys (id, name, key_hash, created_at, expires_at, max_uses, uses)
         VALUES ($1, $2, $3, $4, $5, $6, 0)`,
        [r.id, r.name ?? null, r.keyHash, r.createdAt, r.expiresAt, r.maxUses],
      );
      await pruneKeys(c, now);
    });
    return created;
  }

  async revokeEnrollKey(id: string, now = Date.now()): Promise<boolean> {
    return this.transaction(async (c) => {
      const { rowCount } = await c.query(
        'UPDATE enroll_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1',
        [id, new Date(now)],
      );
      await pruneKeys(c, now);
      return rowCount === 1;
    });
  }

  async enrollDevice(
    key: string,
    machine: EnrollingMachine,
    now = Date.now(),
  ): Promise<{ device: DeviceRecord; token: string; keyId: string }> {
    const keyHash = hashToken(key);
    const at = new Date(now);
    return this.transaction(async (c) => {
      // The row lock taken here holds until COMMIT: a concurrent enrollment with this key waits, then
      // re-checks `uses < max_uses` against the committed count.
      const spent = await c.query<{ id: string }>(
        `UPDATE enroll_keys SET uses = uses + 1
         WHERE key_hash = $1 AND revoked_at IS NULL AND uses < max_uses AND expires_at > $2
         RETURNING id`,
        [keyHash, at],
      );
      const keyId = spent.rows[0]?.id;
      if (keyId === undefined) {
        const { rows } = await c.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM enroll_keys WHERE key_hash = $1`, [
          keyHash,
        ]);
        // Throws the refusal that names why (unknown, revoked, used up, expired).
        spendEnrollKey(rows.map(keyRecord), key, now);
        throw new EnrollKeyError('enroll_key_used_up', 'this enrollment key has no use left');
      }
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [DEVICE_NAMES_LOCK_KEY]);
      const names = await c.query<{ name: string }>('SELECT name FROM devices');
      const name = uniqueDeviceName(
        machine.hostname,
        names.rows.map((r) => r.name),
      );
      const { device, token } = newDevice(name, at.getTime(), { ...machine, keyId, at: at.toISOString() });
      await this.insertDevice(c, device);
      await pruneKeys(c, now);
      return { device, token, keyId };
    });
  }

  async viewerTokens(now = Date.now()): Promise<readonly ViewerTokenRecord[]> {
    const { rows } = await this.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM viewer_tokens WHERE expires_at IS NULL OR expires_at > $1 ORDER BY seq`,
      [new Date(now)],
    );
    return rows.map(tokenRecord);
  }

  async issueViewerToken(
    name: string,
    opts: ViewerTokenOptions = {},
  ): Promise<{ token: string; record: ViewerTokenRecord }> {
    const now = Date.now();
    const { token, record } = newViewerToken(name, opts, now);
    try {
      await this.transaction(async (c) => {
        await c.query('DELETE FROM viewer_tokens WHERE expires_at <= $1', [new Date(now)]);
        await c.query(
          `INSERT INTO viewer_tokens (name, token_hash, created_at, once, expires_at, view_only)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            name,
            record.tokenHash,
            record.createdAt,
            record.once === true,
            record.expiresAt ?? null,
            record.viewOnly === true,
          ],
        );
      });
    } catch (err) {
      if (viewerTokenKind(record) === 'named' && pgCode(err) === '23505') {
        throw new StoreError('exists', `a viewer token named '${name}' already exists; revoke it first`);
      }
      throw err;
    }
    return { token, record };
  }

  async revokeViewerTokens(name: string): Promise<number> {
    const { rowCount } = await this.query(
      'DELETE FROM viewer_tokens WHERE name = $1 AND (expires_at IS NULL OR expires_at > $2)',
      [name, new Date()],
    );
    return rowCount ?? 0;
  }

  async findViewerToken(token: string, now = Date.now()): Promise<ViewerTokenRecord | undefined> {
    const { rows } = await this.query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM viewer_tokens
       WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [hashToken(token), new Date(now)],
    );
    return rows[0] && tokenRecord(rows[0]);
  }

  async consumeViewerToken(record: ViewerTokenRecord): Promise<boolean> {
    const { rowCount } = await this.query('DELETE FROM viewer_tokens WHERE token_hash = $1', [
      record.tokenHash,
    ]);
    return rowCount === 1;
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  private async insertDevice(c: Pool | PoolClient, d: DeviceRecord): Promise<void> {
    await c.query(
      `INSERT INTO devices (id, name, token_hash, created_at, enrolled) VALUES ($1, $2, $3, $4, $5)`,
      [d.id, d.name, d.tokenHash, d.createdAt, d.enrolled ? JSON.stringify(d.enrolled) : null],
    );
  }

  private async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []) {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** Runs `fn` in a transaction (READ COMMITTED: every statement above relies only on row locks). */
  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.failure(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw this.failure(err);
    } finally {
      // A client whose connection broke is destroyed instead of going back to the pool.
      client.release(broken);
    }
  }

  /** Our own errors pass through; a lost or refused connection becomes StoreError `unavailable`. */
  private failure(err: unknown): unknown {
    if (err instanceof StoreError || err instanceof EnrollKeyError || !(err instanceof Error)) return err;
    if (!isConnectionFailure(err)) return err;
    return new StoreError('unavailable', `the database is unreachable: ${this.scrub(errorMessage(err))}`, {
      cause: err,
    });
  }
}

/** The SQLSTATE of a server error, if it is one. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether an error means "the database cannot be reached or is not serving": a socket error
 * (ECONNREFUSED, ECONNRESET, a timeout, a terminated connection) or SQLSTATE class 08 (connection
 * exception), 57P01–57P03 (shut down, starting up) or 53 (insufficient resources: too many connections).
 */
export function isConnectionFailure(err: unknown): boolean {
  const code = pgCode(err);
  if (code !== undefined) return code.startsWith('08') || /^57P0[123]$/.test(code) || code.startsWith('53');
  const sys = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof sys === 'string' && /^E[A-Z]+$/.test(sys)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT|Client has encountered a connection error/i.test(
    errorMessage(err),
  );
}

async function pruneKeys(c: PoolClient, now: number): Promise<void> {
  // enroll-keys.ts pruneEnrollKeys in SQL: a key goes ENROLL_KEY_KEEP_MS after it stopped working:
  // its revocation if revoked, else its expiry (a used-up key's end is bounded by its expiry too).
  await c.query(
    `DELETE FROM enroll_keys
     WHERE CASE WHEN revoked_at IS NOT NULL THEN revoked_at <= $1 ELSE expires_at <= $1 END`,
    [new Date(now - ENROLL_KEY_KEEP_MS)],
  );
}

function deviceRecord(r: DeviceRow): DeviceRecord {
  return {
    id: r.id,
    name: r.name,
    tokenHash: r.token_hash,
    createdAt: r.created_at.toISOString(),
    ...(r.enrolled ? { enrolled: enrolledInfo(r.enrolled) } : {}),
  };
}

/** In the JSON store's key order (jsonb keeps its own). */
function enrolledInfo(e: EnrolledInfo): EnrolledInfo {
  return {
    hostname: e.hostname,
    os: e.os,
    arch: e.arch,
    agentVersion: e.agentVersion,
    keyId: e.keyId,
    at: e.at,
  };
}

function tokenRecord(r: TokenRow): ViewerTokenRecord {
  return {
    name: r.name,
    tokenHash: r.token_hash,
    createdAt: r.created_at.toISOString(),
    ...(r.once ? { once: true } : {}),
    ...(r.expires_at ? { expiresAt: r.expires_at.toISOString() } : {}),
    ...(r.view_only ? { viewOnly: true } : {}),
  };
}

function keyRecord(r: KeyRow): EnrollKeyRecord {
  return {
    id: r.id,
    ...(r.name !== null ? { name: r.name } : {}),
    keyHash: r.key_hash,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    maxUses: r.max_uses,
    uses: r.uses,
    ...(r.revoked_at ? { revokedAt: r.revoked_at.toISOString() } : {}),
  };
}
