import { lstat, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

/** One `X<n>` entry of the X socket directory. */
export interface XSocketFile {
  display: number;
  path: string;
  /** Owner of the socket file: the user the X server runs as. */
  uid: number;
  gid: number;
  isSocket: boolean;
  /** Identifies this socket file: a restarted server makes a new one. */
  identity: string;
}

export const DEFAULT_X_SOCKET_DIR = '/tmp/.X11-unix';

/** Reads the `X<n>` entries of `dir`, sorted by display number. A missing directory means no X server. */
export async function readXSocketFiles(dir: string): Promise<XSocketFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: XSocketFile[] = [];
  for (const name of names) {
    const m = /^X(\d{1,9})$/.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      // lstat, not stat: a symlink planted in a world-writable /tmp must not lend us another file's owner.
      const st = await lstat(path);
      files.push({
        display: Number(m[1]),
        path,
        uid: st.uid,
        gid: st.gid,
        isSocket: st.isSocket(),
        identity: `${st.dev}:${st.ino}:${st.ctimeMs}`,
      });
    } catch (err) {
      // Removed between readdir and lstat: the server just went away.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return files.sort((a, b) => a.display - b.display);
}

/**
 * Whether an X server accepts connections on the socket at `path`. A socket file outlives a server
 * that crashed or was killed, so its presence proves nothing; a connection that is accepted does.
 * The connection is closed at once, before any X protocol is spoken, which servers treat as a client
 * that went away.
 */
export function isListening(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    let settled = false;
    const done = (live: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(live);
    };
    // Timers run before I/O callbacks in an event-loop turn, so after a long pause of the loop (a busy
    // host) an expired timer would beat a connection that has in fact succeeded. Giving the verdict
    // one more turn (setImmediate runs after the pending I/O callbacks) lets the connection win.
    const timer = setTimeout(() => setImmediate(() => done(false)), timeoutMs);
    socket.once('connect', () => done(true));
    // A server that is alive but has a full accept queue answers EAGAIN: it is there, only busy.
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'EAGAIN'));
  });
}
