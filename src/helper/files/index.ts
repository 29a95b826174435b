/**
 * Picks how the helper touches the user's files (design/FILES.md, "Whose identity"):
 * - the helper runs as the session user (the default on Linux): in-process, with its own identity;
 * - the helper is root (`keepRoot`): a files worker per operation, started as the session user;
 * - the session user cannot be told, or Windows with a SYSTEM helper (not built yet): no file access,
 *   and the viewer is told `unavailable`.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { promisify } from 'node:util';
import type { Logger } from '../../log/logger.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type FileAccess, type FilesPolicy } from './file-access.js';
import { LocalFileAccess } from './local-file-access.js';
import { UserProcessFileAccess, type SessionUser } from './user-process-file-access.js';

export { DEFAULT_MAX_UPLOAD_BYTES };
export type { FilesPolicy };

export interface FileAccessChoice {
  access?: FileAccess;
  /** Why there is none. */
  reason?: string;
}

/** The session user as `getent passwd NAME` has it (NSS: local, LDAP, sssd…). */
export async function lookUpUser(name: string): Promise<SessionUser | undefined> {
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\$?$/.test(name)) return undefined;
  try {
    const { stdout } = await promisify(execFile)('getent', ['passwd', name], { timeout: 5000 });
    const f = stdout.trim().split(':');
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    const home = f[5];
    if (f[0] !== name || !Number.isInteger(uid) || !Number.isInteger(gid) || !home?.startsWith('/'))
      return undefined;
    return { name, uid, gid, home };
  } catch {
    return undefined;
  }
}

export async function chooseFileAccess(
  policy: FilesPolicy,
  log: Pick<Logger, 'info' | 'warn'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FileAccessChoice> {
  if (process.platform === 'win32') {
    // A SYSTEM helper would need impersonation for the open (design/WINDOWS.md, file transfer): not built.
    const system =
      /^SYSTEM$/i.test(env.USERNAME ?? '') || /\\system32\\config\\systemprofile/i.test(homedir());
    if (system) return { reason: 'file transfer from a SYSTEM helper is not built yet (design/WINDOWS.md)' };
    return { access: new LocalFileAccess({ ...policy, home: homedir() }) };
  }
  if (process.getuid?.() !== 0) {
    return { access: new LocalFileAccess({ ...policy, home: env.HOME || homedir() }) };
  }
  // Root (keepRoot): the service names the session user in USER (x11-helper-spawner.ts).
  const name = env.USER;
  if (!name) return { reason: 'the helper runs as root and the session user is unknown' };
  if (name === 'root') return { access: new LocalFileAccess({ ...policy, home: env.HOME || '/root' }) };
  const user = await lookUpUser(name);
  if (!user) return { reason: `the session user ${name} is not in the user database` };
  log.info({ user: name, uid: user.uid }, 'file transfer through a worker running as the session user');
  return { access: new UserProcessFileAccess({ ...policy, user }) };
}
