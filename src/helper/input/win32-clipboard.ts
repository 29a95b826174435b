/**
 * The Windows clipboard as text (CF_UNICODETEXT): written through GlobalAlloc'd memory handed to
 * SetClipboardData, read under GlobalLock within GlobalSize, and watched by polling
 * GetClipboardSequenceNumber (a counter the window station bumps on every change).
 *
 * Ownership. "If an application calls OpenClipboard with hwnd set to NULL, EmptyClipboard sets the
 * clipboard owner to NULL; this causes SetClipboardData to fail" (OpenClipboard, EmptyClipboard,
 * SetClipboardData remarks), so a write opens the clipboard with an owner window. Which thread owns it:
 * the JS main thread, which makes the clipboard calls (koffi calls run on the calling thread) and
 * also follows the input desktop for capture and injection (InputDesktopFollower). SetThreadDesktop
 * "will fail if the calling thread has any windows or hooks on its current desktop", so that thread
 * must never keep a window: the owner is a message-only window (HWND_MESSAGE) created right before
 * OpenClipboard and destroyed right after CloseClipboard, in one synchronous stretch in which no desktop
 * switch can run. Its data stays on the clipboard after the window is gone: only delayed-rendered
 * formats depend on a living owner (WM_RENDERALLFORMATS), and this writes the data itself. A window
 * kept on a thread of its own (a worker with a message loop) would also allow a clipboard listener, but
 * costs a second thread with its own koffi instance; polling the sequence number needs no window.
 *
 * Reads open the clipboard without an owner: only SetClipboardData needs one.
 */
import koffi from 'koffi';
import { GMEM_MOVEABLE, kernel32Desktop } from '../../native/win32/kernel32-desktop.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { CF_UNICODETEXT, user32 } from '../../native/win32/user32.js';
import { registerWindowClass, HWND_MESSAGE, user32Window } from '../../native/win32/user32-window.js';
import { lastError } from '../../native/win32/last-error.js';
import { MAX_CLIPBOARD_TEXT } from '../../protocol/datachannel.js';
import { realTimers, type Timers } from '../../time/timers.js';
import type { Clipboard } from './clipboard.js';
import { decodeUnicodeText, encodeUnicodeText } from './clipboard-text.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';

export interface Win32ClipboardOptions {
  log: Pick<Logger, 'debug' | 'warn'>;
  /** How often the sequence number is read (default 250 ms). */
  pollMs?: number;
  /** The clock of the OpenClipboard retries (default: the real one). */
  timers?: Pick<Timers, 'setTimeout'>;
}

/** Another process may hold the clipboard for a moment: this many tries, 10 ms apart. */
const OPEN_TRIES = 10;
const OPEN_RETRY_MS = 10;
const OWNER_CLASS = 'PortholeClipboardOwner';

let ownerClassRegistered = false;

/** Registers the owner's window class once per process; its window procedure is DefWindowProcW. */
function registerOwnerClass(): void {
  if (ownerClassRegistered) return;
  const k = kernel32Desktop();
  const instance: Handle = k.GetModuleHandleW(null);
  // DefWindowProcW's own address, so no JS callback runs inside the window's messages.
  const defWindowProc: unknown = k.GetProcAddress(k.GetModuleHandleW('user32.dll'), 'DefWindowProcW');
  if (defWindowProc == null) throw lastError('GetProcAddress(DefWindowProcW)');
  registerWindowClass(OWNER_CLASS, defWindowProc, instance, null);
  ownerClassRegistered = true;
}

/** A message-only window on the calling thread, to own the clipboard for one write. */
function createOwnerWindow(): Handle {
  registerOwnerClass();
  const instance: Handle = kernel32Desktop().GetModuleHandleW(null);
  const hwnd: Handle = user32Window().CreateWindowExW(
    0,
    OWNER_CLASS,
    'porthole clipboard',
    0,
    0,
    0,
    0,
    0,
    HWND_MESSAGE,
    null,
    instance,
    null,
  );
  if (isNullOrInvalid(hwnd)) throw lastError('CreateWindowExW(HWND_MESSAGE)');
  return hwnd;
}

/**
 * Runs `fn` with the clipboard open, owned by a fresh message-only window when `owned`. The window is
 * destroyed before this returns or awaits, so the thread holds no window between calls.
 */
async function withClipboard<T>(fn: () => T, owned: boolean, timers: Pick<Timers, 'setTimeout'>): Promise<T> {
  const u = user32();
  for (let attempt = 1; ; attempt += 1) {
    const owner: Handle = owned ? createOwnerWindow() : null;
    if (u.OpenClipboard(owner)) {
      try {
        return fn();
      } finally {
        u.CloseClipboard();
        if (owned) user32Window().DestroyWindow(owner);
      }
    }
    const err = lastError('OpenClipboard');
    if (owned) user32Window().DestroyWindow(owner);
    if (attempt >= OPEN_TRIES) throw err;
    await new Promise<void>((resolve) => timers.setTimeout(resolve, OPEN_RETRY_MS));
  }
}

/** The clipboard's text, read within the memory object's size (GlobalSize), at most MAX_CLIPBOARD_TEXT. */
function readText(): string {
  const u = user32();
  if (!u.IsClipboardFormatAvailable(CF_UNICODETEXT)) return '';
  const h: Handle = u.GetClipboardData(CF_UNICODETEXT);
  if (isNullOrInvalid(h)) throw lastError('GetClipboardData(CF_UNICODETEXT)');
  const k = kernel32Desktop();
  const size = Number(k.GlobalSize(h));
  if (size === 0) throw lastError('GlobalSize');
  const p: unknown = k.GlobalLock(h);
  if (p == null) throw lastError('GlobalLock');
  try {
    // Never more than the text a viewer may receive, even from a huge copy (+1 unit for the NUL).
    const bytes = new Uint8Array(koffi.view(p, Math.min(size, (MAX_CLIPBOARD_TEXT + 1) * 2)));
    return decodeUnicodeText(bytes, MAX_CLIPBOARD_TEXT);
  } finally {
    k.GlobalUnlock(h);
  }
}

/** Empties the clipboard (taking ownership for the open window) and puts `text` on it. */
function writeText(text: string): void {
  const u = user32();
  const k = kernel32Desktop();
  const bytes = encodeUnicodeText(text);
  const mem: Handle = k.GlobalAlloc(GMEM_MOVEABLE, bytes.length);
  if (isNullOrInvalid(mem)) throw lastError('GlobalAlloc');
  let owned = true; // ours until SetClipboardData succeeds, then the system's
  try {
    const p: unknown = k.GlobalLock(mem);
    if (p == null) throw lastError('GlobalLock');
    Buffer.from(koffi.view(p, bytes.length)).set(bytes);
    k.GlobalUnlock(mem);
    if (!u.EmptyClipboard()) throw lastError('EmptyClipboard');
    if (isNullOrInvalid(u.SetClipboardData(CF_UNICODETEXT, mem))) throw lastError('SetClipboardData');
    owned = false;
  } finally {
    if (owned) k.GlobalFree(mem);
  }
}

export function createWin32Clipboard(opts: Win32ClipboardOptions): Clipboard {
  const { log } = opts;
  const timers = opts.timers ?? realTimers;
  const listeners = new Set<(text: string) => void>();
  let seen = user32().GetClipboardSequenceNumber() as number;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function poll(): Promise<void> {
    const now = user32().GetClipboardSequenceNumber() as number;
    if (now === seen) return;
    seen = now;
    try {
      const text = await withClipboard(readText, false, timers);
      for (const cb of listeners) cb(text);
    } catch (err) {
      log.debug({ err: errorMessage(err) }, 'clipboard read failed');
    }
  }

  function startPolling(): void {
    if (timer || closed) return;
    timer = setInterval(() => void poll(), opts.pollMs ?? 250);
    timer.unref();
  }

  return {
    async write(text) {
      await withClipboard(() => writeText(text), true, timers);
      // Our own write is not a change to report.
      seen = user32().GetClipboardSequenceNumber() as number;
    },
    read() {
      return withClipboard(readText, false, timers);
    },
    onChange(cb) {
      listeners.add(cb);
      startPolling();
      return () => {
        listeners.delete(cb);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    close() {
      closed = true;
      listeners.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
