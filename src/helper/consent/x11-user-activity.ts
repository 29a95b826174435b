/**
 * X11: the session's input idle time and screen saver state from the MIT-SCREEN-SAVER extension
 * (`XScreenSaverQueryInfo` in libXss, through koffi), read on a connection opened for the question and
 * closed after it (a consent question is rare; no connection is held between them).
 *
 * `idle` is the time since the X server last saw input from any device, XTest included: a viewer
 * already connected through XTest would keep the session "present". The screen saver state covers a
 * blanked screen; a screen locker that does not use the X screen saver (most desktop lockers set
 * logind's LockedHint instead) is seen by the service's logind check (state `locked`).
 */
import { openDisplay } from '../../native/x11/display.js';
import { libXss, ScreenSaverOn, type XScreenSaverInfoFields } from '../../native/x11/xss.js';
import type { UserActivity } from './user-activity.js';

export function readX11UserActivity(display?: string): UserActivity {
  const xss = libXss();
  const conn = openDisplay(display);
  try {
    if (!xss.XScreenSaverQueryExtension(conn.dpy, [0], [0])) {
      throw new Error(`the X server ${conn.name} has no MIT-SCREEN-SAVER extension`);
    }
    const info = {} as Record<string, unknown>;
    if (!xss.XScreenSaverQueryInfo(conn.dpy, conn.root, info))
      throw new Error('XScreenSaverQueryInfo failed');
    const fields = info as unknown as XScreenSaverInfoFields;
    return { idleMs: Number(fields.idle), screenSaverOn: fields.state === ScreenSaverOn };
  } finally {
    conn.close();
  }
}
