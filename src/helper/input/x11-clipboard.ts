/**
 * The X11 CLIPBOARD selection through `xclip` (Debian package xclip, listed in scripts/apt/input.txt).
 *
 * Why xclip: owning an X selection means answering other clients' SelectionRequest events for as long
 * as the content is current, including the INCR protocol for texts over ~256 KiB. xclip does all of
 * that in a small process that forks off and serves until another client takes the selection, which
 * also keeps the text pasteable after the helper is gone. Reading is one `xclip -o`.
 *
 * `xclip -i` forks and its parent exits before the forked server has sent its requests (its Xlib
 * buffer is flushed by the child): on a busy machine the clipboard is still the old one when the
 * parent is gone. So a write ends only once the X server names a new CLIPBOARD owner, read with
 * XGetSelectionOwner on a connection this clipboard keeps for that; otherwise an immediate paste in the
 * session (a viewer's clipboard message followed by Ctrl+V) would paste the previous text.
 *
 * Changes made in the session are noticed without polling the content: an XFIXES selection-owner
 * notification arrives on a private connection whenever any client (re)takes CLIPBOARD, and only then
 * is the text read.
 */
import { execFile, spawn } from 'node:child_process';
import { MAX_CLIPBOARD_TEXT } from '../../protocol/datachannel.js';
import { openDisplay, type XDisplayConnection } from '../../native/x11/display.js';
import { XEVENT_SIZE, XFlush, XInternAtom, XNextEvent, XPending } from '../../native/x11/xlib.js';
import {
  XDefaultRootWindow,
  XGetSelectionOwner,
  XFixesQueryExtension,
  XFixesSelectionNotify,
  XFixesSelectSelectionInput,
  XFixesSetSelectionOwnerNotifyMask,
} from '../../native/x11/xtest.js';
import type { Clipboard } from './clipboard.js';
import { type Logger } from '../../log/logger.js';

export interface X11ClipboardOptions {
  /** The X display (default: $DISPLAY). */
  display?: string;
  log: Pick<Logger, 'debug' | 'warn'>;
  /** How often the owner-change events are collected. */
  pollMs?: number;
}

const XCLIP_TIMEOUT_MS = 3000;
/** How often a write looks whether xclip's server owns CLIPBOARD yet (one round trip each). */
const OWNER_POLL_MS = 5;

export function createX11Clipboard(opts: X11ClipboardOptions): Clipboard {
  const display = opts.display ?? process.env.DISPLAY ?? '';
  const env = { ...process.env, DISPLAY: display };
  const listeners = new Set<(text: string) => void>();
  /** The last text known to be on the clipboard, written or reported: not reported again. */
  let known: string | undefined;
  let watch: { conn: XDisplayConnection; timer: NodeJS.Timeout; eventType: number } | undefined;
  let closed = false;
  let owner: { conn: XDisplayConnection; atom: unknown } | undefined;

  /** The CLIPBOARD owner's window id (0: none). */
  function clipboardOwner(): number {
    if (!owner) {
      const conn = openDisplay(display);
      owner = { conn, atom: XInternAtom(conn.dpy, 'CLIPBOARD', 0) };
    }
    return Number(XGetSelectionOwner(owner.conn.dpy, owner.atom));
  }

  /** Resolves once CLIPBOARD has an owner other than `before` (xclip's server has taken it). */
  function ownerTaken(before: number, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const look = () => {
        if (closed) return resolve();
        let now: number;
        try {
          now = clipboardOwner();
        } catch (err) {
          return reject(err instanceof Error ? err : new Error(String(err)));
        }
        if (now !== 0 && now !== before) return resolve();
        if (Date.now() >= deadline) {
          return reject(new Error(`xclip did not take the clipboard within ${XCLIP_TIMEOUT_MS} ms`));
        }
        setTimeout(look, OWNER_POLL_MS);
      };
      look();
    });
  }

  function read(): Promise<string> {
    return new Promise((resolve) => {
      execFile(
        'xclip',
        ['-selection', 'clipboard', '-o', '-t', 'UTF8_STRING'],
        { env, encoding: 'buffer', timeout: XCLIP_TIMEOUT_MS, maxBuffer: MAX_CLIPBOARD_TEXT * 4 + 1024 },
        (err, stdout) => {
          // xclip fails when nothing owns the clipboard or the owner offers no text: both mean ''.
          if (err) return resolve('');
          resolve(stdout.toString('utf8').slice(0, MAX_CLIPBOARD_TEXT));
        },
      );
    });
  }

  async function write(text: string): Promise<void> {
    known = text;
    const before = clipboardOwner();
    const deadline = Date.now() + XCLIP_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      // stdout/stderr are not piped: xclip's forked server would hold them open forever.
      const child = spawn('xclip', ['-selection', 'clipboard', '-i'], {
        env,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), XCLIP_TIMEOUT_MS);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`xclip: ${err.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`xclip -i exited with code ${String(code)}`));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(text, 'utf8');
    });
    await ownerTaken(before, deadline);
  }

  async function ownerChanged(): Promise<void> {
    const text = await read();
    if (closed || text === known) return;
    known = text;
    for (const cb of listeners) {
      try {
        cb(text);
      } catch (err) {
        opts.log.warn({ err: String(err) }, 'clipboard listener threw');
      }
    }
  }

  function startWatch(): void {
    if (watch || closed) return;
    const conn = openDisplay(display);
    const eventBase = [0];
    if (!XFixesQueryExtension(conn.dpy, eventBase, [0])) {
      conn.close();
      opts.log.warn({ display }, 'no XFIXES: session clipboard changes are not sent to the viewer');
      return;
    }
    const clipboardAtom = XInternAtom(conn.dpy, 'CLIPBOARD', 0) as number;
    XFixesSelectSelectionInput(
      conn.dpy,
      XDefaultRootWindow(conn.dpy),
      clipboardAtom,
      XFixesSetSelectionOwnerNotifyMask,
    );
    XFlush(conn.dpy);
    const event = Buffer.alloc(XEVENT_SIZE);
    const eventType = eventBase[0]! + XFixesSelectionNotify;
    const timer = setInterval(() => {
      let changed = false;
      try {
        while ((XPending(conn.dpy) as number) > 0) {
          XNextEvent(conn.dpy, event);
          if (event.readInt32LE(0) === eventType) changed = true;
        }
      } catch (err) {
        opts.log.warn({ err: String(err) }, 'clipboard watch failed');
      }
      if (changed) void ownerChanged();
    }, opts.pollMs ?? 250);
    timer.unref();
    watch = { conn, timer, eventType };
  }

  return {
    read,
    write,
    onChange(cb) {
      listeners.add(cb);
      startWatch();
      return () => listeners.delete(cb);
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      if (watch) {
        clearInterval(watch.timer);
        watch.conn.close();
        watch = undefined;
      }
      owner?.conn.close();
      owner = undefined;
    },
  };
}
