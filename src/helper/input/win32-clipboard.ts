/**
 * The Windows clipboard as text (CF_UNICODETEXT): written through GlobalAlloc'd memory handed to
 * SetClipboardData, read under GlobalLock, and watched by polling GetClipboardSequenceNumber (a counter
 * the window station bumps on every change), because the listener API (AddClipboardFormatListener)
 * needs a window and a window on the JS main thread would stop it following the input desktop.
 *
 * The clipboard is opened without an owner window (OpenClipboard(NULL)) for the same reason.
 */
import koffi from 'koffi';
import { GMEM_MOVEABLE, kernel32Desktop } from '../../native/win32/kernel32-desktop.js';
import { isNullOrInvalid, readWideString, type Handle } from '../../native/win32/library.js';
import { CF_UNICODETEXT, user32 } from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import type { Clipboard } from './clipboard.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';

export interface Win32ClipboardOptions {
  log: Pick<Logger, 'debug' | 'warn'>;
  /** How often the sequence number is read (default 250 ms). */
  pollMs?: number;
}

/** Another process may hold the clipboard for a moment: a few tries, 10 ms apart. */
async function withClipboard<T>(fn: () => T): Promise<T> {
  const u = user32();
  for (let attempt = 0; ; attempt += 1) {
    if (u.OpenClipboard(null)) break;
    if (attempt >= 10) throw lastError('OpenClipboard');
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    return fn();
  } finally {
    u.CloseClipboard();
  }
}

function readText(): string {
  const u = user32();
  if (!u.IsClipboardFormatAvailable(CF_UNICODETEXT)) return '';
  const h: Handle = u.GetClipboardData(CF_UNICODETEXT);
  if (isNullOrInvalid(h)) throw lastError('GetClipboardData(CF_UNICODETEXT)');
  const k = kernel32Desktop();
  const p: unknown = k.GlobalLock(h);
  if (p == null) throw lastError('GlobalLock');
  try {
    return readWideString(p);
  } finally {
    k.GlobalUnlock(h);
  }
}

function writeText(text: string): void {
  const u = user32();
  const k = kernel32Desktop();
  const bytes = Buffer.from(`${text}\0`, 'utf16le');
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
  const listeners = new Set<(text: string) => void>();
  let seen = user32().GetClipboardSequenceNumber() as number;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function poll(): Promise<void> {
    const now = user32().GetClipboardSequenceNumber() as number;
    if (now === seen) return;
    seen = now;
    try {
      const text = await withClipboard(readText);
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
      await withClipboard(() => writeText(text));
      // Our own write is not a change to report.
      seen = user32().GetClipboardSequenceNumber() as number;
    },
    read() {
      return withClipboard(readText);
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
