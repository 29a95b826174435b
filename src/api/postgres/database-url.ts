/**
 * `--database postgres://user:password@host:port/db`: checked before use, and never shown with its
 * password (logs, errors, `location`). A password is better kept out of the URL altogether: libpq's
 * `PGPASSWORD` or `~/.pgpass` (both read by the `pg` client), or peer authentication over the Unix
 * socket (`postgres:///porthole?host=/run/postgresql`).
 */
import { StoreError } from '../store.js';

/** The URL with its password replaced by `***`; a URL that does not parse is never echoed. */
export function redactDatabaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(an unparseable database URL)';
  }
  if (u.password) u.password = '***';
  for (const key of [...u.searchParams.keys()]) {
    if (/pass|secret|key/i.test(key)) u.searchParams.set(key, '***');
  }
  return u.toString();
}

/** Throws StoreError `unreadable` unless `url` is a postgres:// or postgresql:// URL. */
export function checkDatabaseUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(
      'unreadable',
      'the database must be a URL such as postgres://user@host:5432/porthole',
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreError(
      'unreadable',
      `the database URL must start with postgres:// or postgresql://, not ${u.protocol}//`,
    );
  }
}

/** Removes the URL's password (and its percent-decoded form) from a text that may quote it. */
export function scrubPassword(text: string, url: string): string {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return text;
  }
  if (password.length < 1) return text;
  let out = text.split(password).join('***');
  try {
    const decoded = decodeURIComponent(password);
    if (decoded) out = out.split(decoded).join('***');
  } catch {
    // not percent-encoded
  }
  return out;
}
