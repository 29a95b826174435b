/**
 * Bearer secrets: generated from 32 random bytes, shown once, kept only as SHA-256 hashes.
 *
 * A plain SHA-256 (no salt, no slow KDF) is enough here because the secrets are 256-bit random values,
 * not passwords: there is no dictionary to attack, and a fast hash keeps every request cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new secret token: 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a token: hex SHA-256. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented token with a stored hash without leaking where they differ. */
export function tokenMatches(token: string, storedHash: string): boolean {
  return hashMatches(Buffer.from(hashToken(token), 'hex'), storedHash);
}

/** The same for a token hashed once up front, when it is compared with many stored hashes. */
export function hashMatches(presentedHash: Buffer, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presentedHash.length && timingSafeEqual(presentedHash, stored);
}

/** A short random id for devices and desktop connections (lower-case base32, 10 characters). */
export function randomId(prefix: string): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  let id = '';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return `${prefix}-${id}`;
}

/** Pulls the token out of an `Authorization: Bearer …` header; undefined if absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(header.trim());
  return m?.[1];
}
