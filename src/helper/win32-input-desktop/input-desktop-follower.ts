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
import koffi from 'koffi';
import { kernel32Desktop } from '../../native/win32/kernel32-desktop.js';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import { grantedAccess } from '../../native/win32/ntdll.js';
import {
  DESKTOP_JOURNALPLAYBACK,
  INPUT_DESKTOP_ACCESS,
  UOI_NAME,
  user32,
} from '../../native/win32/user32.js';
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

/** What a thread was last switched to: the handle it now uses, that desktop's name and granted access. */
interface ThreadDesktop {
  handle: Handle;
  name: string;
  /** The handle's granted access mask; undefined if NtQueryObject could not say. */
  access: number | undefined;
}

/**
 * Per OS thread (keyed by GetCurrentThreadId): the desktop handle the follower gave it. Shared by every
 * follower on the thread (the capturer's and the injector's), so that they agree on one handle instead
 * of switching the thread back and forth. A worker thread has its own module instance, and its own id.
 */
const switched = new Map<number, ThreadDesktop>();

/** The handle, name and granted access of the input desktop the calling thread was switched to, if any. */
export function followedDesktop(): Readonly<ThreadDesktop> | undefined {
  return switched.get(kernel32Desktop().GetCurrentThreadId() as number);
}

/**
 * Follows the input desktop. `sync()` is cheap when nothing changed (one OpenInputDesktop, one name
 * read, one GetThreadDesktop, one CloseDesktop) and is called before each capture and each injection,
 * on the thread that then captures or injects: SetThreadDesktop acts on the calling thread only, and
 * Windows checks SendInput against the access of the calling thread's desktop handle.
 */
export class InputDesktopFollower {
  private lastFailure = '';

  constructor(private readonly log?: Pick<Logger, 'info' | 'warn'>) {}

  /** The input desktop's name after the last successful sync on this thread ('' before it). */
  get name(): string {
    return followedDesktop()?.name ?? '';
  }

  /**
   * Moves the calling thread to the input desktop when it changed, or when the thread is on another
   * handle than the one it was given (something else called SetThreadDesktop). Returns true when the
   * thread is now on it; false (logged once per distinct failure) when the desktop cannot be opened
   * (the secure desktop without SYSTEM rights) or the thread cannot switch.
   */
  sync(): boolean {
    const u = user32();
    const thread = kernel32Desktop().GetCurrentThreadId() as number;
    const h: Handle = u.OpenInputDesktop(0, 0, INPUT_DESKTOP_ACCESS);
    if (isNullOrInvalid(h)) return this.failed(lastError('OpenInputDesktop'));
    let keep = false;
    try {
      const name = userObjectName(h);
      const current = switched.get(thread);
      if (current && current.name === name && sameHandle(u.GetThreadDesktop(thread), current.handle)) {
        return true;
      }
      if (!u.SetThreadDesktop(h)) return this.failed(lastError('SetThreadDesktop', `to "${name}"`));
      keep = true;
      // The old handle may be closed only once the thread no longer uses it, as now.
      if (current) u.CloseDesktop(current.handle);
      const access = grantedAccessOf(h);
      switched.set(thread, { handle: h, name, access });
      this.lastFailure = '';
      const fields = {
        from: current?.name,
        to: name,
        access: access === undefined ? undefined : hex(access),
      };
      if (access !== undefined && (access & DESKTOP_JOURNALPLAYBACK) === 0) {
        this.log?.warn(
          fields,
          'input desktop handle lacks DESKTOP_JOURNALPLAYBACK: injected input will be refused',
        );
      } else this.log?.info(fields, 'following the input desktop');
      return true;
    } finally {
      if (!keep) u.CloseDesktop(h);
    }
  }

  private failed(err: Win32Error): false {
    if (err.message !== this.lastFailure) {
      this.lastFailure = err.message;
      this.log?.warn(
        { err: err.message, desktop: this.name || undefined },
        'cannot follow the input desktop',
      );
    }
    return false;
  }

  /**
   * Nothing to release: the thread keeps the desktop handle it was switched to (closing a thread's
   * current desktop handle fails with ERROR_BUSY), and other followers on the thread share it.
   */
  close(): void {
    this.lastFailure = '';
  }
}

function sameHandle(a: Handle, b: Handle): boolean {
  return !isNullOrInvalid(a) && !isNullOrInvalid(b) && koffi.address(a) === koffi.address(b);
}

/** The handle's granted access, for the log; undefined if ntdll cannot say (the switch stands). */
function grantedAccessOf(h: Handle): number | undefined {
  try {
    return grantedAccess(h);
  } catch {
    return undefined;
  }
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}
