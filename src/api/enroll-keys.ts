/**
 * Enrollment keys: secrets an administrator hands to an installer (`porthole service enroll`, the
 * MSI's ENROLL_KEY) so that machines register themselves as devices. Each key is usable `maxUses`
 * times until it expires or is revoked; like every other secret it is shown once and stored only as
 * its SHA-256 (src/api/tokens.ts). The functions here work on the store's data inside its locked
 * read-modify-write (ApiStore), so two machines enrolling at once with a one-use key cannot both win.
 */
import { PortholeError } from '../errors/porthole-error.js';
import type { EnrollKeyCode } from '../protocol/enroll.js';
import { hashMatches, hashToken, newToken, randomId } from './tokens.js';

export interface EnrollKeyRecord {
  id: string;
  /** The administrator's label (`--name`); not unique, never a secret. */
  name?: string;
  keyHash: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt?: string;
}

/** What the enrolling agent said about its machine, kept on the device it created. */
export interface EnrolledInfo {
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  keyId: string;
  at: string;
}

/** Why a key was refused: its `code` is the 401's (design/API.md, enrollment). */
export class EnrollKeyError extends PortholeError<EnrollKeyCode> {
  override name = 'EnrollKeyError';
  constructor(
    code: EnrollKeyCode,
    message: string,
    /** The id of the key that matched (for the audit log); undefined for an unknown key. */
    readonly keyId?: string,
  ) {
    super(code, message);
  }
}

export const ENROLL_KEY_ID_PATTERN = /^ek-[a-z2-9]{10}$/;
/**
 * Every key starts with this: a secret scanner (or a person) recognises a leaked one, and no key
 * starts with `-`, which a command-line parser would take for an option.
 */
export const ENROLL_KEY_PREFIX = 'pek_';
export const MAX_ENROLL_KEY_USES = 1_000_000;
/** Keys live at most a year: an installer command line that never stops working is a standing risk. */
export const MAX_ENROLL_KEY_TTL_MS = 366 * 86_400_000;
/** Expired, used-up and revoked keys stay listed this long after they stop working, then go. */
export const ENROLL_KEY_KEEP_MS = 30 * 86_400_000;

export function newEnrollKey(
  opts: { name?: string; maxUses: number; ttlMs: number },
  now: number,
): { key: string; record: EnrollKeyRecord } {
  if (!Number.isInteger(opts.maxUses) || opts.maxUses < 1 || opts.maxUses > MAX_ENROLL_KEY_USES) {
    throw new RangeError(`uses must be an integer from 1 to ${MAX_ENROLL_KEY_USES}`);
  }
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 60_000 || opts.ttlMs > MAX_ENROLL_KEY_TTL_MS) {
    throw new RangeError('an enrollment key must expire between 1 minute and 366 days from now');
  }
  const key = `${ENROLL_KEY_PREFIX}${newToken()}`;
  return {
    key,
    record: {
      id: randomId('ek'),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      keyHash: hashToken(key),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + opts.ttlMs).toISOString(),
      maxUses: opts.maxUses,
      uses: 0,
    },
  };
}

export type EnrollKeyState = 'active' | 'expired' | 'used_up' | 'revoked';

/** A key's state at `now`; revocation wins over the others, then use-up, then expiry. */
export function enrollKeyState(k: EnrollKeyRecord, now: number): EnrollKeyState {
  if (k.revokedAt !== undefined) return 'revoked';
  if (k.uses >= k.maxUses) return 'used_up';
  if (Date.parse(k.expiresAt) <= now) return 'expired';
  return 'active';
}

/** When a key stopped working (for pruning), or undefined while it is active. */
function endedAt(k: EnrollKeyRecord, now: number): number | undefined {
  switch (enrollKeyState(k, now)) {
    case 'revoked':
      return Date.parse(k.revokedAt ?? k.createdAt);
    case 'expired':
      return Date.parse(k.expiresAt);
    case 'used_up':
      // The store does not keep when the last use was; the expiry bounds how long the key is kept.
      return Math.min(Date.parse(k.expiresAt), now);
    default:
      return undefined;
  }
}

/** The keys still worth listing: active ones and those that stopped working within ENROLL_KEY_KEEP_MS. */
export function pruneEnrollKeys(keys: EnrollKeyRecord[], now: number): EnrollKeyRecord[] {
  return keys.filter((k) => {
    const ended = endedAt(k, now);
    return ended === undefined || now - ended < ENROLL_KEY_KEEP_MS;
  });
}

/**
 * Spends one use of the key matching `key`, or throws EnrollKeyError with why it cannot. Every stored
 * hash is compared (in constant time each), so timing does not tell which record matched.
 */
export function spendEnrollKey(keys: EnrollKeyRecord[], key: string, now: number): EnrollKeyRecord {
  const presented = Buffer.from(hashToken(key), 'hex');
  let found: EnrollKeyRecord | undefined;
  for (const k of keys) if (hashMatches(presented, k.keyHash)) found = k;
  if (!found)
    throw new EnrollKeyError('enroll_key_invalid', 'this enrollment key is not known to the server');
  switch (enrollKeyState(found, now)) {
    case 'revoked':
      throw new EnrollKeyError('enroll_key_revoked', 'this enrollment key was revoked', found.id);
    case 'used_up':
      throw new EnrollKeyError(
        'enroll_key_used_up',
        `this enrollment key has been used ${found.maxUses} time${found.maxUses === 1 ? '' : 's'}, all it was issued for`,
        found.id,
      );
    case 'expired':
      throw new EnrollKeyError(
        'enroll_key_expired',
        `this enrollment key expired at ${found.expiresAt}`,
        found.id,
      );
    default:
      found.uses += 1;
      return found;
  }
}

/** The longest device name an enrollment picks, leaving room for a ` (NN)` suffix within 128. */
const NAME_BASE_MAX = 120;

/**
 * A device name for `hostname` that no other device has (compared without case): the host name
 * itself, else `host (2)`, `host (3)`, …
 */
export function uniqueDeviceName(hostname: string, taken: Iterable<string>): string {
  const names = new Set([...taken].map((n) => n.toLowerCase()));
  const base = [...hostname.trim()].slice(0, NAME_BASE_MAX).join('') || 'device';
  if (!names.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!names.has(candidate.toLowerCase())) return candidate;
  }
}
