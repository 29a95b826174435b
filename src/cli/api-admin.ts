/** `porthole api device …` and `porthole api token …`: manage the store from the command line. */
import { EXIT_FAILURE, EXIT_OK, UsageError, type Command, type OptionSpec } from './command.js';
import { ProtocolError } from '../protocol/validate.js';
import { resolveDatabaseUrl, resolveDataDir } from '../api/data-dir.js';
import { viewerTokenKind, type ApiStore } from '../api/store.js';
import { LOGIN_TOKEN_TTL_MS } from '../api/viewer-auth.js';
import { withStoreBackend, type StoreBackend } from '../api/open-store.js';
import { silentLogger } from '../log/logger.js';
import { resolveRedisUrl } from '../api/redis/redis-url.js';
import { errorMessage } from '../errors/error-text.js';

export const dataDirOption: OptionSpec = {
  type: 'string',
  description: 'Data dir holding the store (env PORTHOLE_API_DATA; default ~/.local/share/porthole-api)',
};
export const databaseOption: OptionSpec = {
  type: 'string',
  description:
    'PostgreSQL store, postgres://USER@HOST:5432/DB, instead of the data dir (env PORTHOLE_API_DATABASE; ' +
    'keep the password in ~/.pgpass or PGPASSWORD)',
};
/** The options every admin command takes to find its store. */
export const storeOptions: Record<string, OptionSpec> = {
  'data-dir': dataDirOption,
  database: databaseOption,
};
const jsonOption: OptionSpec = { type: 'boolean', description: 'Print JSON instead of text' };

/** Opens the store the flags name (JSON data dir or PostgreSQL), runs `use`, closes it. */
export function withStore<T>(
  values: Record<string, unknown>,
  use: (b: StoreBackend) => Promise<T>,
): Promise<T> {
  return withStoreBackend(
    {
      dataDir: resolveDataDir(values['data-dir'] as string | undefined),
      database: resolveDatabaseUrl(values.database as string | undefined),
      log: silentLogger,
    },
    use,
  );
}

function onStore<T>(values: Record<string, unknown>, use: (store: ApiStore) => Promise<T>): Promise<T> {
  return withStore(values, (b) => use(b.store));
}

/** Exactly `count` positionals, else a UsageError naming what is missing or extra. */
export function expectArgs(positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing <${names[positionals.length]}>`);
  if (positionals.length > names.length)
    throw new UsageError(`unexpected argument '${positionals[names.length]}'`);
  return positionals;
}

/** Store validation errors (a bad name) are the caller's mistake: exit 2 with the field named. */
async function asUsage<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ProtocolError) throw new UsageError(err.message);
    throw err;
  }
}

export const deviceAdd: Command = {
  name: 'device add',
  summary: 'Register a device and print its id and token (the token is shown only this once)',
  usage:
    'porthole api device add <name> [--data-dir D | --database URL] [--api-url wss://HOST:PORT/api/agent] [--json]',
  options: {
    ...storeOptions,
    'api-url': { type: 'string', description: 'Agent URL to put in the printed service command' },
    json: jsonOption,
  },
  async run(values, positionals) {
    const [name = ''] = expectArgs(positionals, ['name']);
    const { device, token } = await asUsage(() => onStore(values, (s) => s.addDevice(name)));
    if (values.json) {
      console.log(JSON.stringify({ id: device.id, name: device.name, token }));
      return EXIT_OK;
    }
    const apiUrl = (values['api-url'] as string | undefined) ?? 'wss://API-HOST:8443/api/agent';
    console.log(
      [
        `Device '${device.name}' added.`,
        `  id:    ${device.id}`,
        `  token: ${token}`,
        '',
        'The token is shown only now (the API keeps a hash). On the device, save it to a file only',
        'root can read (e.g. /etc/porthole/device-token, mode 0600) and run the service with:',
        `  porthole service --api-url ${apiUrl} --device-id ${device.id} --token-file /etc/porthole/device-token`,
      ].join('\n'),
    );
    return EXIT_OK;
  },
};

export const deviceRemove: Command = {
  name: 'device remove',
  summary: 'Remove a device; its agent is disconnected and its token stops working',
  usage: 'porthole api device remove <id> [--data-dir D | --database URL] [--redis URL]',
  options: {
    ...storeOptions,
    redis: {
      type: 'string',
      description:
        'The API instances’ Redis (env PORTHOLE_REDIS_URL): the agent is closed at once, not at their next heartbeat',
    },
  },
  async run(values, positionals) {
    const [id = ''] = expectArgs(positionals, ['id']);
    const redis = resolveRedisUrl(values.redis as string | undefined);
    if (!(await onStore(values, (s) => s.removeDevice(id)))) {
      console.error(`porthole api device remove: no device with id '${id}'`);
      return EXIT_FAILURE;
    }
    console.log(`Device ${id} removed.`);
    if (redis !== undefined) {
      // Loaded only when asked for: ioredis is not needed by an install without Redis.
      const { publishRevocationTo } = await import('../api/redis/revocation-bus.js');
      try {
        await publishRevocationTo(redis, { kind: 'device_removed', deviceId: id });
      } catch (err) {
        console.error(
          `porthole api device remove: the API instances were not told (${errorMessage(err)}); ` +
            'they drop the agent at their next heartbeat',
        );
      }
    }
    return EXIT_OK;
  },
};

export const deviceList: Command = {
  name: 'device list',
  summary: 'List registered devices (id, name, when added; for an enrolled one its host, OS and key)',
  usage: 'porthole api device list [--data-dir D | --database URL] [--json]',
  options: { ...storeOptions, json: jsonOption },
  async run(values, positionals) {
    expectArgs(positionals, []);
    const devices = (await onStore(values, (s) => s.devices())).map(({ id, name, createdAt, enrolled }) => ({
      id,
      name,
      createdAt,
      ...(enrolled ? { enrolled } : {}),
    }));
    if (values.json) console.log(JSON.stringify({ devices }));
    else if (devices.length === 0) console.log('No devices.');
    else {
      for (const d of devices) {
        const e = d.enrolled;
        const how = e
          ? `enrolled ${d.createdAt} by ${e.hostname}, ${e.os}/${e.arch}, porthole ${e.agentVersion}, key ${e.keyId}`
          : `added ${d.createdAt}`;
        console.log(`${d.id}  ${d.name}  (${how})`);
      }
    }
    return EXIT_OK;
  },
};

export const tokenIssue: Command = {
  name: 'token issue',
  summary: `Issue a viewer token named <name> and print it once (--once: a login token valid ${LOGIN_TOKEN_TTL_MS / 60_000} min, single use)`,
  usage: 'porthole api token issue <name> [--once] [--view-only] [--data-dir D | --database URL] [--json]',
  options: {
    ...storeOptions,
    once: {
      type: 'boolean',
      description: 'A one-time login token for POST /api/login instead of a long-lived one',
    },
    'view-only': {
      type: 'boolean',
      description:
        'The viewer may only watch: no input, Ctrl+Alt+Del, clipboard or files (enforced on the device)',
    },
    json: jsonOption,
  },
  async run(values, positionals) {
    const [name = ''] = expectArgs(positionals, ['name']);
    const once = values.once === true;
    const viewOnly = values['view-only'] === true;
    const { token, record } = await asUsage(() =>
      onStore(values, (s) =>
        s.issueViewerToken(name, {
          ...(once ? { once: true, ttlMs: LOGIN_TOKEN_TTL_MS } : {}),
          ...(viewOnly ? { viewOnly: true } : {}),
        }),
      ),
    );
    if (values.json) {
      console.log(
        JSON.stringify({
          name,
          token,
          ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
          ...(viewOnly ? { viewOnly: true } : {}),
        }),
      );
      return EXIT_OK;
    }
    const what = viewOnly ? 'view-only ' : '';
    console.log(
      once
        ? `Login token for '${name}' (${what}single use, expires ${record.expiresAt}):\n  ${token}`
        : `Viewer token '${name}' (${what}until revoked; shown only now):\n  ${token}`,
    );
    return EXIT_OK;
  },
};

export const tokenRevoke: Command = {
  name: 'token revoke',
  summary: 'Revoke every viewer token named <name>, with the sessions logged in through them',
  usage: 'porthole api token revoke <name> [--data-dir D | --database URL]',
  options: storeOptions,
  async run(values, positionals) {
    const [name = ''] = expectArgs(positionals, ['name']);
    const count = await onStore(values, (s) => s.revokeViewerTokens(name));
    if (count === 0) {
      console.error(`porthole api token revoke: no token named '${name}'`);
      return EXIT_FAILURE;
    }
    console.log(`Revoked ${count} token${count === 1 ? '' : 's'} named '${name}'.`);
    return EXIT_OK;
  },
};

export const tokenList: Command = {
  name: 'token list',
  summary: 'List viewer tokens by name and kind (named, login, session); never the tokens themselves',
  usage: 'porthole api token list [--data-dir D | --database URL] [--json]',
  options: { ...storeOptions, json: jsonOption },
  async run(values, positionals) {
    expectArgs(positionals, []);
    const tokens = (await onStore(values, (s) => s.viewerTokens())).map((t) => ({
      name: t.name,
      kind: viewerTokenKind(t),
      createdAt: t.createdAt,
      ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
      ...(t.viewOnly ? { viewOnly: true } : {}),
    }));
    if (values.json) console.log(JSON.stringify({ tokens }));
    else if (tokens.length === 0) console.log('No viewer tokens.');
    else {
      for (const t of tokens) {
        console.log(
          `${t.name}  ${t.kind}${t.viewOnly ? ' view-only' : ''}  (issued ${t.createdAt}${t.expiresAt ? `, expires ${t.expiresAt}` : ''})`,
        );
      }
    }
    return EXIT_OK;
  },
};
