/**
 * What `porthole service enroll` writes: the device token into its own file, readable by the owner only,
 * then the config (creating it, keeping every other field) pointing at it with `api.url`,
 * `api.deviceId` and `api.tokenFile`. Both are written whole or not at all (temp file, fsync, rename),
 * token first, so a config never names a token file that is not there.
 *
 * Owner-only: on Linux the files are created 0600 (by root, when run as root, as the service needs);
 * on Windows a `protect` hook gives the still-empty temp file a protected SYSTEM + Administrators DACL
 * before the token is written into it (service/windows/enrollment-security.ts).
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PortholeError } from '../errors/porthole-error.js';
import { errorMessage } from '../errors/error-text.js';
import { isRecord, ProtocolError } from '../protocol/validate.js';
import { validateConfigFile } from './config.js';

/** `config_unreadable`: the existing config cannot be read or is not a valid porthole.json; `write_failed`. */
export class EnrollmentFileError extends PortholeError<'config_unreadable' | 'write_failed'> {
  override name = 'EnrollmentFileError';
}

/** The existing config as parsed JSON (checked against porthole.json's shape), or undefined when absent. */
export function readConfigForEnrollment(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnrollmentFileError(
      'config_unreadable',
      `cannot read the config ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EnrollmentFileError(
      'config_unreadable',
      `the config ${path} is not valid JSON; fix it or move it away`,
      { cause: err },
    );
  }
  try {
    validateConfigFile(raw);
  } catch (err) {
    if (err instanceof ProtocolError) {
      throw new EnrollmentFileError('config_unreadable', `the config ${path} is not valid: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  return raw as Record<string, unknown>;
}

/** The device id a config is enrolled as, if any. */
export function enrolledDeviceId(config: Record<string, unknown> | undefined): string | undefined {
  const api = config?.api;
  return isRecord(api) && typeof api.deviceId === 'string' ? api.deviceId : undefined;
}

/** The token file a config names, made absolute against the config's folder (as the service reads it). */
export function configuredTokenFile(config: Record<string, unknown> | undefined): string | undefined {
  const api = config?.api;
  return isRecord(api) && typeof api.tokenFile === 'string' && isAbsolute(api.tokenFile)
    ? api.tokenFile
    : undefined;
}

export interface Enrollment {
  configPath: string;
  tokenPath: string;
  /** The config as it was (undefined: none yet). */
  config: Record<string, unknown> | undefined;
  agentUrl: string;
  deviceId: string;
  token: string;
  /** Windows: lock a just-created, still-empty file to SYSTEM and Administrators. */
  protect?: (path: string) => void;
}

export function writeEnrollment(e: Enrollment): void {
  const tokenPath = resolve(e.tokenPath);
  const { token: _inline, urls: oldUrls, ...oldApi } = isRecord(e.config?.api) ? e.config.api : {};
  // Other instances' URLs (`api.urls`) belong to the server they were listed for: kept when the
  // machine enrolls with that server again, dropped when it moves to another one.
  const urls = oldApi.url === e.agentUrl && oldUrls !== undefined ? { urls: oldUrls } : {};
  const config = {
    ...e.config,
    api: { ...oldApi, url: e.agentUrl, ...urls, deviceId: e.deviceId, tokenFile: tokenPath },
  };
  // What the service will read must be valid before anything is written.
  validateConfigFile(config);
  writeOwnerOnly(tokenPath, `${e.token}\n`, 0o600, e.protect);
  writeOwnerOnly(
    resolve(e.configPath),
    `${JSON.stringify(config, null, 2)}\n`,
    existingMode(e.configPath),
    e.protect,
  );
}

function existingMode(path: string): number {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return 0o600;
  }
}

/** temp file (created with `mode`, protected while empty) → write → fsync → rename over `path`. */
function writeOwnerOnly(path: string, text: string, mode: number, protect?: (path: string) => void): void {
  const dir = dirname(path);
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    // A folder created here is the owner's only (an existing one, like /etc, is left as it is).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = openSync(temp, 'wx', mode);
    if (process.platform !== 'win32') fchmodSync(fd, mode);
    protect?.(temp);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? ' (run as root / as administrator)' : '';
    throw new EnrollmentFileError(
      'write_failed',
      `cannot write ${path}: ${code ?? errorMessage(err)}${hint}`,
      {
        cause: err,
      },
    );
  }
  if (process.platform !== 'win32') {
    // The rename is durable only once the folder is on disk too.
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}
