import { readFileSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { arrayOf, bool, int, object, oneOf, optional, str, ProtocolError } from '../protocol/validate.js';
import { errorMessage } from '../errors/error-text.js';
import { accessPolicyShape, resolveAccessPolicy, type AccessPolicy } from './access-policy.js';

export interface AudioPolicy {
  /** Desktops may carry the session's sound (default true); each viewer may still turn it off. */
  enabled: boolean;
}

/** porthole.json, after defaults, environment overrides and command-line flags. */
export interface ServiceConfig {
  /**
   * `url` is the first API endpoint; `urls`, present when there are several (API instances without a
   * load balancer in front, or a standby), lists them all, `url` first: the link tries the next one
   * after each failed or closed attempt (api-link.ts).
   */
  api?: { url: string; urls?: string[]; deviceId: string; token: string };
  logLevel: LogLevel;
  /** Run desktops in-process without helpers (development; as Breeze's dev mode). */
  direct: boolean;
  sessions: {
    detector: 'auto' | 'x11' | 'fake';
    spawnOnLogon: boolean;
    affinity: string[];
    pollMs: number;
    socketDir?: string;
    configured?: { display: string; username?: string; uid?: number; gid?: number; xauthority?: string }[];
  };
  helper: { keepRoot: boolean; args: string[] };
  /** Attended access: consent before a desktop starts, and limits on its length (access-policy.ts). */
  access: AccessPolicy;
  /** The session's sound in desktops (design/MEDIA.md, Audio): `enabled: false` sends none. */
  audio: AudioPolicy;
  policy: {
    maxFailures: number;
    failureWindowMs: number;
    readyTimeoutMs: number;
    stopGraceMs: number;
    requestTimeoutMs: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** A helper ready this long has its backoff start again from the base. */
    stableAfterMs: number;
  };
}

export const DEFAULT_CONFIG: ServiceConfig = {
  logLevel: 'info',
  direct: false,
  sessions: { detector: 'auto', spawnOnLogon: true, affinity: [], pollMs: 2000 },
  helper: { keepRoot: false, args: [] },
  access: resolveAccessPolicy(undefined),
  audio: { enabled: true },
  policy: {
    maxFailures: 5,
    failureWindowMs: 300_000,
    readyTimeoutMs: 20_000,
    stopGraceMs: 3000,
    requestTimeoutMs: 20_000,
    backoffBaseMs: 500,
    backoffMaxMs: 30_000,
    stableAfterMs: 60_000,
  },
};

const username = str({ max: 256 });
const agentUrl = str({ max: 2048, pattern: /^wss?:\/\/\S+$/ });
/** API endpoints a device may be given: enough for any fleet behind no load balancer. */
export const MAX_API_URLS = 16;
const fileShape = object({
  api: optional(
    object({
      url: optional(agentUrl),
      /** More endpoints of the same API (other instances), tried in turn after `url`. */
      urls: optional(arrayOf(agentUrl, { max: MAX_API_URLS })),
      deviceId: str({ min: 1, max: 128, pattern: /^[A-Za-z0-9._:-]+$/ }),
      token: optional(str({ min: 16, max: 512 })),
      tokenFile: optional(str({ max: 4096 })),
    }),
  ),
  logLevel: optional(oneOf(LOG_LEVELS)),
  direct: optional(bool),
  sessions: optional(
    object({
      detector: optional(oneOf(['auto', 'x11', 'fake'])),
      spawnOnLogon: optional(bool),
      affinity: optional(arrayOf(username, { max: 64 })),
      pollMs: optional(int(100, 600_000)),
      socketDir: optional(str({ max: 4096 })),
      configured: optional(
        arrayOf(
          object({
            display: str({ max: 64, pattern: /^:\d{1,5}(\.\d+)?$/ }),
            username: optional(username),
            uid: optional(int(0, 2 ** 31)),
            gid: optional(int(0, 2 ** 31)),
            xauthority: optional(str({ max: 4096 })),
          }),
          { max: 64 },
        ),
      ),
    }),
  ),
  helper: optional(
    object({ keepRoot: optional(bool), args: optional(arrayOf(str({ max: 4096 }), { max: 64 })) }),
  ),
  access: optional(accessPolicyShape),
  audio: optional(object({ enabled: optional(bool) })),
  policy: optional(
    object({
      maxFailures: optional(int(1, 1000)),
      failureWindowMs: optional(int(1000, 86_400_000)),
      readyTimeoutMs: optional(int(500, 600_000)),
      stopGraceMs: optional(int(0, 600_000)),
      requestTimeoutMs: optional(int(500, 600_000)),
      backoffBaseMs: optional(int(10, 60_000)),
      backoffMaxMs: optional(int(10, 600_000)),
      stableAfterMs: optional(int(0, 3_600_000)),
    }),
  ),
});

export interface ConfigSources {
  file?: string;
  env: NodeJS.ProcessEnv;
  flags: { apiUrl?: string; deviceId?: string; tokenFile?: string; direct?: boolean; logLevel?: string };
}

/** Builds the config: defaults < porthole.json < PORTHOLE_* environment < command-line flags. */
export function loadServiceConfig(src: ConfigSources): ServiceConfig {
  const file = src.file ? readConfigFile(src.file) : {};
  const api = file.api;
  const env = src.env;
  const fileUrls = [...(api?.url ? [api.url] : []), ...(api?.urls ?? [])];
  const urls = splitUrls(src.flags.apiUrl ?? env.PORTHOLE_API_URL) ?? unique(fileUrls);
  const url = urls[0];
  const deviceId = src.flags.deviceId ?? env.PORTHOLE_DEVICE_ID ?? api?.deviceId;
  const tokenFile = src.flags.tokenFile ?? env.PORTHOLE_TOKEN_FILE ?? api?.tokenFile;
  const token = tokenFile ? readToken(tokenFile) : (env.PORTHOLE_TOKEN ?? api?.token);
  const logLevel = src.flags.logLevel ?? env.PORTHOLE_LOG_LEVEL ?? file.logLevel ?? DEFAULT_CONFIG.logLevel;

  const config: ServiceConfig = {
    logLevel: oneOf(LOG_LEVELS)(logLevel, 'logLevel'),
    direct: src.flags.direct ?? file.direct ?? false,
    sessions: { ...DEFAULT_CONFIG.sessions, ...file.sessions },
    helper: { ...DEFAULT_CONFIG.helper, ...file.helper },
    access: resolveAccessPolicy(file.access),
    audio: { enabled: file.audio?.enabled ?? DEFAULT_CONFIG.audio.enabled },
    policy: { ...DEFAULT_CONFIG.policy, ...file.policy },
  };
  if (url || deviceId || token) {
    if (!url) throw new ProtocolError('api.url', 'is required when a device id or token is set (--api-url)');
    if (!deviceId) throw new ProtocolError('api.deviceId', 'is required (--device-id or PORTHOLE_DEVICE_ID)');
    if (!token)
      throw new ProtocolError('api.token', 'is required (--token-file, PORTHOLE_TOKEN or api.tokenFile)');
    urls.forEach((u, i) => agentUrl(u, i === 0 ? 'api.url' : `api.urls[${i}]`));
    if (urls.length > MAX_API_URLS) throw new ProtocolError('api.urls', `at most ${MAX_API_URLS} URLs`);
    config.api = { url, ...(urls.length > 1 ? { urls } : {}), deviceId, token };
  }
  return config;
}

/** `--api-url` and PORTHOLE_API_URL take one URL or several separated by commas. */
function splitUrls(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return unique(
    text
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
  );
}

function unique(urls: string[]): string[] {
  return [...new Set(urls)];
}

/** Checks a parsed porthole.json (throws ProtocolError naming the field); for tools that edit it. */
export function validateConfigFile(raw: unknown): ReturnType<typeof fileShape> {
  return fileShape(raw, '');
}

function readConfigFile(path: string): ReturnType<typeof fileShape> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read config ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return fileShape(raw, '');
}

function readToken(path: string): string {
  try {
    const token = readFileSync(path, 'utf8').trim();
    return str({ min: 16, max: 512 })(token, 'api.token');
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new Error(`cannot read token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
}
