/**
 * `porthole api enroll-key create|list|revoke` and `porthole api device rename`: the administrator's
 * side of enrollment. Each change is written to the audit log with `remote: "cli"`.
 */
import { EXIT_FAILURE, EXIT_OK, UsageError, type Command, type OptionSpec } from './command.js';
import { ProtocolError } from '../protocol/validate.js';
import { StoreError } from '../api/store.js';
import type { AuditEvent, AuditSink } from '../api/audit-log.js';
import {
  enrollKeyState,
  MAX_ENROLL_KEY_TTL_MS,
  MAX_ENROLL_KEY_USES,
  type EnrollKeyRecord,
} from '../api/enroll-keys.js';
import { expectArgs, storeOptions, withStore } from './api-admin.js';

const jsonOption: OptionSpec = { type: 'boolean', description: 'Print JSON instead of text' };

/** The admin's change goes to the store's audit log (audit.jsonl, or the database's table). */
function audit(sink: AuditSink, event: Omit<AuditEvent, 'viewer' | 'remote'>): void {
  sink.record({ viewer: null, remote: 'cli', ...event });
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `12h`, `7d`, `2w` → milliseconds; a UsageError otherwise. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([mhdw])$/.exec(text);
  const ms = m?.[1] && m[2] ? Number(m[1]) * (UNIT_MS[m[2]] ?? 0) : NaN;
  if (!(ms >= 60_000 && ms <= MAX_ENROLL_KEY_TTL_MS)) {
    throw new UsageError(
      `--expires must be a duration from 1m to 366d such as 30m, 12h, 7d or 2w, got '${text}'`,
    );
  }
  return ms;
}

function parseUses(text: string): number {
  const n = Number(text);
  if (!/^\d{1,7}$/.test(text) || n < 1 || n > MAX_ENROLL_KEY_USES) {
    throw new UsageError(`--uses must be an integer from 1 to ${MAX_ENROLL_KEY_USES}, got '${text}'`);
  }
  return n;
}

export const enrollKeyCreate: Command = {
  name: 'enroll-key create',
  summary: 'Create an enrollment key and print it once: machines enroll themselves with it',
  usage:
    'porthole api enroll-key create [--name N] [--uses 1] [--expires 7d] [--data-dir D | --database URL] [--json]',
  options: {
    ...storeOptions,
    name: { type: 'string', description: 'A label for the key (letters, digits, . _ @ -; up to 64)' },
    uses: { type: 'string', description: 'How many machines may enroll with it (default 1)' },
    expires: {
      type: 'string',
      description: 'How long it works: 30m, 12h, 7d, 2w (default 7d, at most 366d)',
    },
    json: jsonOption,
  },
  async run(values, positionals) {
    expectArgs(positionals, []);
    const name = values.name as string | undefined;
    const maxUses = parseUses((values.uses as string | undefined) ?? '1');
    const ttlMs = parseDuration((values.expires as string | undefined) ?? '7d');
    let created: { key: string; record: EnrollKeyRecord };
    try {
      created = await withStore(values, async (b) => {
        const made = await b.store.createEnrollKey({
          ...(name !== undefined ? { name } : {}),
          maxUses,
          ttlMs,
        });
        audit(b.audit, {
          device: null,
          action: 'enroll_key_created',
          ok: true,
          enrollKey: made.record.id,
          ...(name !== undefined ? { name } : {}),
        });
        return made;
      });
    } catch (err) {
      if (err instanceof ProtocolError) throw new UsageError(err.message);
      throw err;
    }
    const { key, record } = created;
    if (values.json) {
      console.log(JSON.stringify({ ...describeKey(record, Date.now()), key }));
      return EXIT_OK;
    }
    console.log(
      [
        `Enrollment key ${record.id}${name ? ` '${name}'` : ''}: ${maxUses} use${maxUses === 1 ? '' : 's'}, expires ${record.expiresAt}.`,
        `  key: ${key}`,
        '',
        'The key is shown only now (the API keeps a hash). On each machine, as root or administrator,',
        'put it in a file (or pipe it in, or set PORTHOLE_ENROLL_KEY) and run:',
        '  porthole service enroll --server https://API-HOST:8443 --key-file FILE',
        `Revoke it with: porthole api enroll-key revoke ${record.id}`,
      ].join('\n'),
    );
    return EXIT_OK;
  },
};

function describeKey(k: EnrollKeyRecord, now: number) {
  return {
    id: k.id,
    ...(k.name !== undefined ? { name: k.name } : {}),
    state: enrollKeyState(k, now),
    usesLeft: Math.max(0, k.maxUses - k.uses),
    maxUses: k.maxUses,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    ...(k.revokedAt !== undefined ? { revokedAt: k.revokedAt } : {}),
  };
}

export const enrollKeyList: Command = {
  name: 'enroll-key list',
  summary: 'List enrollment keys: id, name, uses left, expiry, state (never the keys themselves)',
  usage: 'porthole api enroll-key list [--data-dir D | --database URL] [--json]',
  options: { ...storeOptions, json: jsonOption },
  async run(values, positionals) {
    expectArgs(positionals, []);
    const now = Date.now();
    const keys = (await withStore(values, (b) => b.store.enrollKeys())).map((k) => describeKey(k, now));
    if (values.json) console.log(JSON.stringify({ enrollKeys: keys }));
    else if (keys.length === 0) console.log('No enrollment keys.');
    else {
      for (const k of keys) {
        const state = k.state === 'active' ? '' : `  ${k.state.replace('_', ' ')}`;
        console.log(
          `${k.id}  ${k.name ?? '-'}  ${k.usesLeft}/${k.maxUses} uses left  expires ${k.expiresAt}${state}`,
        );
      }
    }
    return EXIT_OK;
  },
};

export const enrollKeyRevoke: Command = {
  name: 'enroll-key revoke',
  summary: 'Revoke an enrollment key: no machine can enroll with it any more (enrolled ones stay)',
  usage: 'porthole api enroll-key revoke <id> [--data-dir D | --database URL]',
  options: storeOptions,
  async run(values, positionals) {
    const [id = ''] = expectArgs(positionals, ['id']);
    const revoked = await withStore(values, async (b) => {
      if (!(await b.store.revokeEnrollKey(id))) return false;
      audit(b.audit, { device: null, action: 'enroll_key_revoked', ok: true, enrollKey: id });
      return true;
    });
    if (!revoked) {
      console.error(
        `porthole api enroll-key revoke: no enrollment key with id '${id}' (see enroll-key list)`,
      );
      return EXIT_FAILURE;
    }
    console.log(`Enrollment key ${id} revoked.`);
    return EXIT_OK;
  },
};

export const deviceRename: Command = {
  name: 'device rename',
  summary: 'Rename a device (names are unique; an enrolled device starts with its host name)',
  usage: 'porthole api device rename <id> <name> [--data-dir D | --database URL]',
  options: storeOptions,
  async run(values, positionals) {
    const [id = '', name = ''] = expectArgs(positionals, ['id', 'name']);
    try {
      await withStore(values, async (b) => {
        await b.store.renameDevice(id, name);
        audit(b.audit, { device: id, action: 'device_renamed', ok: true, name });
      });
    } catch (err) {
      if (err instanceof ProtocolError) throw new UsageError(err.message);
      if (err instanceof StoreError && (err.code === 'not_found' || err.code === 'exists')) {
        console.error(`porthole api device rename: ${err.message}`);
        return EXIT_FAILURE;
      }
      throw err;
    }
    console.log(`Device ${id} is now named '${name}'.`);
    return EXIT_OK;
  },
};
