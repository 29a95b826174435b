/**
 * Access control for a path-based Unix socket. Linux checks write permission on the socket file, but
 * some Unix kernels ignore a socket file's mode, so the real fence is the directory: the socket is
 * created inside a directory of mode 0700, owned by the service (or, once the socket is ready, by
 * the one helper user allowed in). Only root and that user can reach the socket at all; the socket
 * itself is 0600 and owned by the helper user when one is given. See design/IPC.md.
 */
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface SocketOwner {
  uid: number;
  gid?: number;
}

/**
 * Makes sure `socketPath`'s directory is private before anything is bound in it, and clears a stale
 * socket left by a previous run. Refuses (throws) rather than loosens or tightens a directory it
 * did not create: a shared directory such as /tmp must never be chmod'ed.
 */
export async function prepareSocketPath(socketPath: string, owner?: SocketOwner): Promise<void> {
  const dir = path.dirname(socketPath);
  let created = false;
  try {
    await mkdir(dir, { mode: 0o700 });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (created) await chmod(dir, 0o700); // mkdir's mode is filtered by the umask
  const st = await lstat(dir);
  const allowedOwners = [process.getuid?.(), owner?.uid].filter((u) => u !== undefined);
  if (!st.isDirectory() || !allowedOwners.includes(st.uid) || (st.mode & 0o077) !== 0) {
    throw new Error(
      `ipc: socket directory ${dir} must be a directory owned by the service or the helper user with mode 0700`,
    );
  }
  try {
    const existing = await lstat(socketPath);
    if (!existing.isSocket()) throw new Error(`ipc: ${socketPath} exists and is not a socket`);
    await unlink(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** After bind: the socket 0600, then ownership handed to the helper user (file first, directory last). */
export async function secureBoundSocket(socketPath: string, owner?: SocketOwner): Promise<void> {
  await chmod(socketPath, 0o600);
  if (!owner) return;
  const gid = owner.gid ?? -1; // -1 leaves the group unchanged
  await chown(socketPath, owner.uid, gid);
  await chown(path.dirname(socketPath), owner.uid, gid);
}

export function isWindowsPipePath(p: string): boolean {
  return /^\\\\[.?]\\pipe\\[^\\]+/i.test(p);
}
