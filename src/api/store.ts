/**
 * The API's store: devices, viewer tokens (named, one-time login, and the session tokens a login
 * mints) and enrollment keys. Two backends implement it: the embedded JSON file (json-store.ts, the
 * default: nothing to install) and PostgreSQL (postgres/pg-store.ts, `--database postgres://…`, for
 * several API instances). open-store.ts picks one. Every method is asynchronous because the second
 * one is; both keep only SHA-256 hashes of secrets, and both run one contract test suite
 * (test/api/store-contract.ts).
 */
import { str } from '../protocol/validate.js';
import { PortholeError } from '../errors/porthole-error.js';
import type { EnrolledInfo, EnrollKeyRecord } from './enroll-keys.js';
import { hashToken, newToken, randomId } from './tokens.js';

export interface DeviceRecord {
  id: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  /** Set on a device that enrolled itself with an enrollment key (POST /api/enroll). */
  enrolled?: EnrolledInfo;
}

/**
 * A viewer token. Three kinds share the record: a named long-lived token (neither `once` nor
 * `expiresAt`), a one-time login token (`once`, expires in minutes) and a session token minted by
 * `POST /api/login` (`expiresAt`, not `once`).
 */
export interface ViewerTokenRecord {
  name: string;
  tokenHash: string;
  createdAt: string;
  once?: boolean;
  expiresAt?: string;
  /**
   * The viewer may watch only: start_desktop passes `permissions: {control: false, files: false}`,
   * which the device's helper enforces. A login or session token minted from a view-only token is
   * view-only too.
   */
  viewOnly?: boolean;
}

export type ViewerTokenKind = 'named' | 'login' | 'session';
export function viewerTokenKind(t: ViewerTokenRecord): ViewerTokenKind {
  if (t.once) return 'login';
  return t.expiresAt ? 'session' : 'named';
}

export interface EnrollingMachine {
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
}

export interface ViewerTokenOptions {
  once?: boolean;
  ttlMs?: number;
  viewOnly?: boolean;
}

/**
 * What the API needs from its store. Names are validated (a ProtocolError naming `name`) before
 * anything is written. A backend that cannot be reached throws StoreError `unavailable`.
 */
export interface ApiStore {
  /** `json` or `postgres`. */
  readonly kind: 'json' | 'postgres';
  /** Where the data lives, for logs: the file, or the database URL without its password. */
  readonly location: string;

  devices(): Promise<readonly DeviceRecord[]>;
  device(id: string): Promise<DeviceRecord | undefined>;
  /**
   * Which of these ids are still registered devices: the heartbeat's check of the agents one API
   * instance holds (one query, however many devices the fleet has).
   */
  presentDevices(ids: readonly string[]): Promise<Set<string>>;
  /** The device whose id and token both match, or undefined. */
  authenticateDevice(id: string, token: string): Promise<DeviceRecord | undefined>;
  /** Registers a device; the returned token is the only copy that will ever exist. */
  addDevice(name: string): Promise<{ device: DeviceRecord; token: string }>;
  removeDevice(id: string): Promise<boolean>;
  /**
   * Renames a device. Names stay unique (compared without case), as enrollment keeps them: a name
   * another device has is refused with `exists`, an unknown id with `not_found`.
   */
  renameDevice(id: string, name: string): Promise<DeviceRecord>;

  /** Enrollment keys, including those that stopped working in the last 30 days (never the keys). */
  enrollKeys(now?: number): Promise<readonly EnrollKeyRecord[]>;
  /** Creates an enrollment key; the returned key is the only copy that will ever exist. */
  createEnrollKey(
    opts: { name?: string; maxUses: number; ttlMs: number },
    now?: number,
  ): Promise<{ key: string; record: EnrollKeyRecord }>;
  /** Marks a key revoked (it stays listed as such); false when no key has this id. */
  revokeEnrollKey(id: string, now?: number): Promise<boolean>;
  /**
   * Spends one use of an enrollment key and registers the device it enrolls, named after its host
   * name (made unique), atomically: a key with one use left enrolls exactly one machine however many
   * ask at once, and a used key stays used across restarts. Throws EnrollKeyError.
   */
  enrollDevice(
    key: string,
    machine: EnrollingMachine,
    now?: number,
  ): Promise<{ device: DeviceRecord; token: string; keyId: string }>;

  /** Unexpired viewer tokens, oldest first. */
  viewerTokens(now?: number): Promise<readonly ViewerTokenRecord[]>;
  /**
   * Issues a viewer token. A named long-lived token must be unique by name (revoke the old one
   * first); login and session tokens may share a name, since each is what one login gave one viewer.
   */
  issueViewerToken(
    name: string,
    opts?: ViewerTokenOptions,
  ): Promise<{ token: string; record: ViewerTokenRecord }>;
  /** Removes every token (named, login and session) issued under this name; returns how many. */
  revokeViewerTokens(name: string): Promise<number>;
  /** The unexpired token record matching a presented token, if any. */
  findViewerToken(token: string, now?: number): Promise<ViewerTokenRecord | undefined>;
  /**
   * Removes a one-time token once it is used, so a replay (even after a restart, or on another API
   * instance) fails: of two concurrent calls for one record exactly one returns true.
   */
  consumeViewerToken(record: ViewerTokenRecord): Promise<boolean>;

  /** Releases connections (the JSON store holds none). */
  close(): Promise<void>;
}

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
export const deviceName = str({ min: 1, max: 128, pattern: /^[^\p{Cc}]+$/u });
export const tokenName = str({ min: 1, max: 64, pattern: TOKEN_NAME_PATTERN });

/**
 * `unreadable`: the store could not be read or parsed (the message names the file); `locked`:
 * another process holds its lock; `exists`: a record with that name is already there; `not_found`:
 * no record with that id; `unavailable`: the database cannot be reached right now (answered 503);
 * `schema`: the database holds a schema this porthole does not know (a newer one), or none it can use.
 */
export type StoreErrorCode = 'unreadable' | 'locked' | 'exists' | 'not_found' | 'unavailable' | 'schema';

export class StoreError extends PortholeError<StoreErrorCode> {
  override name = 'StoreError';
}

/**
 * A new device and its token, as every backend records it (only the token's hash). `name` is
 * validated by the caller (an administrator's name, or a unique name made from an enrolled hostname).
 */
export function newDevice(
  name: string,
  now: number,
  enrolled?: EnrolledInfo,
): { token: string; device: DeviceRecord } {
  const token = newToken();
  const device: DeviceRecord = {
    id: randomId('dev'),
    name,
    tokenHash: hashToken(token),
    createdAt: new Date(now).toISOString(),
    ...(enrolled ? { enrolled } : {}),
  };
  return { token, device };
}

/** A new viewer token and the record every backend keeps of it (only the token's hash). */
export function newViewerToken(
  name: string,
  opts: ViewerTokenOptions,
  now: number,
): { token: string; record: ViewerTokenRecord } {
  tokenName(name, 'name');
  const token = newToken();
  const record: ViewerTokenRecord = {
    name,
    tokenHash: hashToken(token),
    createdAt: new Date(now).toISOString(),
    ...(opts.once ? { once: true } : {}),
    ...(opts.ttlMs !== undefined ? { expiresAt: new Date(now + opts.ttlMs).toISOString() } : {}),
    ...(opts.viewOnly ? { viewOnly: true } : {}),
  };
  return { token, record };
}

/** Whether a token record has expired at `now`. */
export function viewerTokenExpired(t: ViewerTokenRecord, now: number): boolean {
  return t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now;
}
