/**
 * Keeps the calling thread on the input desktop (the one receiving keyboard and mouse: `Default`, or
 * `Winlogon` for the lock, login and UAC secure-desktop screens), so that BitBlt reads what the user
 * sees and SendInput reaches it.
 *
 * It runs on the JS main thread: koffi calls run on the thread that makes them, and capture and
 * injection are both made from the main thread, so that is the thread whose desktop matters.
 * SetThreadDesktop fails when the thread owns a window or a hook on its current desktop; Node's main
 * thread creates none (libuv uses no windows), so the switch is allowed. A caller that creates windows
 * on the main thread (only the tests do) keeps the desktop it had.
 */
import { kernel32Desktop } from '../../native/win32/kernel32-desktop.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { DESKTOP_ACCESS, UOI_NAME, user32 } from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import { type Win32Error } from '../../native/win32/win32-error.js';
import { type Logger } from '../../log/logger.js';

/** The name of a window-station or desktop handle (GetUserObjectInformationW(UOI_NAME)). */
export function userObjectName(h: Handle): string {
  const needed = [0];
  const buf = Buffer.alloc(512);
  if (!user32().GetUserObjectInformationW(h, UOI_NAME, buf, buf.length, needed))
    throw lastError('GetUserObjectInformationW(UOI_NAME)');
  const text = buf.toString('utf16le');
  const end = text.indexOf('\0');
  return end < 0 ? text : text.slice(0, end);
}

/** The name of the desktop the calling thread is on. The handle from GetThreadDesktop is not closed. */
export function threadDesktopName(): string {
  const h: Handle = user32().GetThreadDesktop(kernel32Desktop().GetCurrentThreadId());
  if (isNullOrInvalid(h)) throw lastError('GetThreadDesktop');
  return userObjectName(h);
}

/**
 * Follows the input desktop. `sync()` is cheap when nothing changed (one OpenInputDesktop, one name
 * read, one CloseDesktop) and is called before each capture and each injection.
 */
export class InputDesktopFollower {
  private current: Handle | undefined;
  private currentName = '';
  private lastFailure = '';

  constructor(private readonly log?: Pick<Logger, 'info' | 'warn'>) {}

  /** The input desktop's name after the last successful sync ('' before it). */
  get name(): string {
    return this.currentName;
  }

  /**
   * Moves the calling thread to the input desktop when it changed. Returns true when the thread is
   * now on it; false (logged once per distinct failure) when the desktop cannot be opened (the secure
   * desktop without SYSTEM rights) or the thread cannot switch.
   */
  sync(): boolean {
    const u = user32();
    const h: Handle = u.OpenInputDesktop(0, 0, DESKTOP_ACCESS);
    if (isNullOrInvalid(h)) return this.failed(lastError('OpenInputDesktop'));
    let keep = false;
    try {
      const name = userObjectName(h);
      if (name === this.currentName && this.current !== undefined) return true;
      if (!u.SetThreadDesktop(h)) return this.failed(lastError('SetThreadDesktop', `to "${name}"`));
      // The old handle may be closed only once the thread no longer uses it.
      if (this.current !== undefined) u.CloseDesktop(this.current);
      this.log?.info({ from: this.currentName || undefined, to: name }, 'following the input desktop');
      this.current = h;
      this.currentName = name;
      this.lastFailure = '';
      keep = true;
      return true;
    } finally {
      if (!keep) u.CloseDesktop(h);
    }
  }

  private failed(err: Win32Error): false {
    if (err.message !== this.lastFailure) {
      this.lastFailure = err.message;
      this.log?.warn({ err: err.message, desktop: this.currentName }, 'cannot follow the input desktop');
    }
    return false;
  }

  /** Closes the handle the thread was switched to (the thread stays on that desktop). */
  close(): void {
    // Closing the thread's current desktop handle fails (ERROR_BUSY); it is released at exit.
    this.current = undefined;
    this.currentName = '';
  }
}
