/** `porthole api serve`: flags → ApiServerOptions, then run until SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import { EXIT_OK, UsageError, type Command } from './command.js';
import { waitForStopSignal } from './stop-signal.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { databaseOption, dataDirOption } from './api-admin.js';
import { resolveDatabaseUrl, resolveDataDir } from '../api/data-dir.js';
import { DEFAULT_TURN_TTL_SECONDS } from '../api/turn-credentials.js';
import type { ApiServerOptions } from '../api/server.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_PORT } from '../api/server-defaults.js';
import { RELAY_PREFIX } from '../api/relay/relay-prefix.js';
import { checkAllowedOrigin } from '../api/cors.js';
import { parseCidr } from '../api/client-address.js';
import { createLogger } from '../log/pino-logger.js';
import { checkRedisUrl, resolveRedisUrl } from '../api/redis/redis-url.js';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../api/postgres/audit-retention.js';

export const serve: Command = {
  name: 'serve',
  summary: 'Run the API and signaling server (HTTPS; plain HTTP on loopback only) and serve the viewer',
  usage:
    'porthole api serve [--host 127.0.0.1] [--port 8443] [--data-dir D | --database URL] [--redis URL] [--tls-cert F --tls-key F] ' +
    '[--stun URL]... [--turn URL]... [--turn-secret-file F] [--turn-ttl S] [--relay-only] ' +
    '[--static-dir D] [--allow-origin ORIGIN]... [--trusted-proxy CIDR]... [--ws-relay-origin URL] [--command-timeout MS] [--audit-retention-days N] [--log-level L]',
  options: {
    host: { type: 'string', description: 'Address to listen on (default 127.0.0.1)' },
    port: { type: 'string', description: `Port (default ${DEFAULT_PORT}; 0 picks a free one)` },
    'data-dir': dataDirOption,
    database: databaseOption,
    redis: {
      type: 'string',
      description:
        'Redis shared by several API instances behind one load balancer, redis://[:PASSWORD@]HOST:6379 ' +
        '(env PORTHOLE_REDIS_URL, which keeps the password off the command line); default: one instance',
    },
    'audit-retention-days': {
      type: 'string',
      description: `PostgreSQL store: delete audit lines older than N days, at start and daily (default ${DEFAULT_AUDIT_RETENTION_DAYS})`,
    },
    'tls-cert': { type: 'string', description: 'PEM certificate (chain) file: serve HTTPS and wss://' },
    'tls-key': { type: 'string', description: 'PEM private key file for --tls-cert' },
    stun: { type: 'string', multiple: true, description: 'STUN URL (stun:host:3478); repeatable' },
    turn: {
      type: 'string',
      multiple: true,
      description: 'TURN URL (turn:host:3478?transport=udp); repeatable',
    },
    'turn-secret-file': {
      type: 'string',
      description: "File holding the TURN shared secret (coturn's static-auth-secret)",
    },
    'turn-ttl': {
      type: 'string',
      description: `Seconds minted TURN credentials stay valid (default ${DEFAULT_TURN_TTL_SECONDS})`,
    },
    'relay-only': {
      type: 'boolean',
      description: "Tell viewers to use TURN only (iceTransportPolicy 'relay')",
    },
    'static-dir': { type: 'string', description: 'Built viewer to serve (default dist/viewer)' },
    'allow-origin': {
      type: 'string',
      multiple: true,
      description: 'Origin of a viewer served elsewhere (tauri://localhost) given CORS access; repeatable',
    },
    'trusted-proxy': {
      type: 'string',
      multiple: true,
      description:
        'Reverse proxy address or CIDR (10.0.0.0/8) whose X-Forwarded-For names the client (rate limits, audit); repeatable',
    },
    'ws-relay-origin': {
      type: 'string',
      description:
        'ws[s]://host[:port] where helpers and viewers reach this instance for the WebSocket relay (default: the listen address)',
    },
    'command-timeout': {
      type: 'string',
      description: `Milliseconds to wait for an agent's reply (default ${DEFAULT_COMMAND_TIMEOUT_MS})`,
    },
    'log-level': { type: 'string', description: 'debug | info | warn | error | silent (default info)' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const options = serveOptions(values);
    // Loaded here, not at the top: `porthole service` loads this module's help too (src/cli/commands.ts).
    const { startApiServer } = await import('../api/server.js');
    const server = await startApiServer(options);
    console.log(`porthole api: listening on ${server.url} (agents: ${server.agentUrl})`);
    const signal = await waitForStopSignal();
    options.log?.info({ signal }, 'API stopping');
    await server.close();
    return EXIT_OK;
  },
};

export function serveOptions(values: Record<string, unknown>): ApiServerOptions {
  const str = (k: string) => values[k] as string | undefined;
  const logLevel = str('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join('|')}`);
  }
  const cert = str('tls-cert');
  const key = str('tls-key');
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  const secretFile = str('turn-secret-file');
  const turnSecret = secretFile !== undefined ? readSecret(secretFile) : undefined;
  const ttl = str('turn-ttl');
  const timeout = str('command-timeout');
  const database = resolveDatabaseUrl(str('database'));
  const redis = resolveRedisUrl(str('redis'));
  if (redis !== undefined) {
    try {
      checkRedisUrl(redis);
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  }
  const retention = str('audit-retention-days');
  return {
    dataDir: resolveDataDir(str('data-dir')),
    ...(database !== undefined ? { database } : {}),
    ...(redis !== undefined ? { redis } : {}),
    ...(retention !== undefined
      ? { auditRetentionDays: integer('--audit-retention-days', retention, 1, 36_500) }
      : {}),
    host: str('host') ?? '127.0.0.1',
    port: integer('--port', str('port') ?? String(DEFAULT_PORT), 0, 65_535),
    ...(cert && key ? { tls: { cert: readFile('--tls-cert', cert), key: readFile('--tls-key', key) } } : {}),
    ice: {
      stun: (values.stun as string[] | undefined) ?? [],
      turn: (values.turn as string[] | undefined) ?? [],
      ...(turnSecret !== undefined ? { turnSecret } : {}),
      ...(ttl !== undefined ? { turnTtlSeconds: integer('--turn-ttl', ttl, 60, 7 * 86_400) } : {}),
      relayOnly: values['relay-only'] === true,
    },
    ...(str('static-dir') ? { staticDir: str('static-dir') } : {}),
    ...(values['allow-origin'] !== undefined ? { allowOrigins: allowOrigins(values['allow-origin']) } : {}),
    ...(values['trusted-proxy'] !== undefined
      ? { trustedProxies: trustedProxies(values['trusted-proxy']) }
      : {}),
    ...(timeout !== undefined
      ? { commandTimeoutMs: integer('--command-timeout', timeout, 100, 600_000) }
      : {}),
    ...(str('ws-relay-origin') !== undefined
      ? { relayOrigin: relayOrigin(str('ws-relay-origin') ?? '') }
      : {}),
    log: createLogger('porthole-api', logLevel as LogLevel),
  };
}

/**
 * A ws: or wss: origin, optionally with a path prefix (`wss://lb.example/i/a1`: a load balancer routes
 * that prefix to this instance; the API serves its relay under it too), no credentials, query or
 * fragment, as `start_desktop.relay.url` is built on it.
 */
function relayOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--ws-relay-origin '${value}' is not a URL`);
  }
  const prefix = url.pathname.replace(/\/$/, '');
  if (
    (url.protocol !== 'ws:' && url.protocol !== 'wss:') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    !RELAY_PREFIX.test(prefix)
  )
    throw new UsageError(
      `--ws-relay-origin must be ws[s]://host[:port] or ws[s]://host[:port]/path, got '${value}'`,
    );
  return `${url.origin}${prefix}`;
}

function allowOrigins(values: unknown): string[] {
  return (values as string[]).map((v) => {
    try {
      return checkAllowedOrigin(v);
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  });
}

function trustedProxies(values: unknown): string[] {
  return (values as string[]).map((v) => {
    try {
      parseCidr(v);
      return v;
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
  });
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

function readFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
}

/** The TURN secret, trimmed; the error names the file but never echoes its content. */
function readSecret(path: string): string {
  const secret = readFile('--turn-secret-file', path).toString('utf8').trim();
  if (secret.length < 8) throw new Error(`--turn-secret-file ${path}: the secret is empty or too short`);
  return secret;
}
