/**
 * The X11 capturer: displays from RandR monitors, pixels through MIT-SHM, changes through DAMAGE.
 *
 * Each frame source opens its own X connection, so a source can be ticked without sharing a queue or a
 * damage object with another source or with the cursor. That connection's socket is also what
 * `waitForChange` watches: the server writes a DamageNotify to it the moment something is drawn.
 */
import koffi from 'koffi';
import { openDisplay, type XDisplayConnection } from '../../native/x11/display.js';
import { XShmQueryExtension } from '../../native/x11/xext-shm.js';
import { waitReadable } from '../../native/x11/libc-poll.js';
import {
  QueuedAlready,
  XConnectionNumber,
  XDisplayHeight,
  XDisplayWidth,
  XEventsQueued,
  XFlush,
  XGetAtomName,
  takeXString,
} from '../../native/x11/xlib.js';
import {
  XRRFreeMonitors,
  XRRGetMonitors,
  XRRMonitorInfoStruct,
  XRRQueryVersion,
  type XRRMonitorInfoFields,
} from '../../native/x11/xrandr.js';
import {
  CaptureError,
  type CapturedFrame,
  type Capturer,
  type CursorSource,
  type DisplayInfo,
  type FrameSource,
} from './capturer.js';
import { monotonicUs } from './clock.js';
import { X11CursorSource } from './x11-cursor.js';
import { DamageTracker, clipRects } from './x11-damage.js';
import { ShmImage } from './x11-shm-image.js';

export class X11Capturer implements Capturer {
  readonly kind = 'x11' as const;
  private readonly conn: XDisplayConnection;

  constructor(private readonly displayName: string | undefined = process.env.DISPLAY) {
    this.conn = openDisplay(displayName);
    if (!XShmQueryExtension(this.conn.dpy)) {
      this.conn.close();
      throw new CaptureError('unsupported', `display "${displayName ?? ''}" has no MIT-SHM extension`);
    }
  }

  displays(): DisplayInfo[] {
    return listMonitors(this.conn);
  }

  openFrameSource(displayIndex: number): FrameSource {
    const display = this.displays()[displayIndex];
    if (!display)
      throw new CaptureError(
        'no_such_display',
        `no display ${displayIndex} (have ${this.displays().length})`,
      );
    return new X11FrameSource(openDisplay(this.displayName), display);
  }

  openCursorSource(): CursorSource {
    return new X11CursorSource(openDisplay(this.displayName));
  }

  close(): void {
    this.conn.close();
  }
}

class X11FrameSource implements FrameSource {
  private readonly image: ShmImage;
  private readonly damage: DamageTracker;
  private sequence = 0;
  private closed = false;
  /** The poll in flight on the connection's socket, shared by concurrent callers. */
  private waiting: Promise<void> | undefined;

  constructor(
    private readonly conn: XDisplayConnection,
    readonly display: DisplayInfo,
  ) {
    try {
      // Damage first: anything drawn after it exists is reported, so the first grab cannot miss it.
      this.damage = new DamageTracker(conn);
      this.image = new ShmImage(conn, display.width, display.height);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  grab(): CapturedFrame {
    if (this.closed) throw new CaptureError('closed', 'grab on a closed frame source');
    this.sequence += 1;
    const first = this.sequence === 1;
    const dirty = clipRects(this.damage.take(), this.display);
    const changed = first || dirty.length > 0;
    if (changed && !this.image.grab(this.display.x, this.display.y)) {
      throw new CaptureError(
        'failed',
        `XShmGetImage of display ${this.display.index} failed (did the screen resize?)`,
      );
    }
    return {
      data: this.image.data,
      width: this.display.width,
      height: this.display.height,
      stride: this.image.stride,
      format: 'BGRX',
      timestampUs: monotonicUs(),
      changed,
      dirty: first ? [{ x: 0, y: 0, width: this.display.width, height: this.display.height }] : dirty,
      sequence: this.sequence,
    };
  }

  waitForChange(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const { dpy } = this.conn;
    // Send what Xlib buffered (the DamageSubtract), and do not sleep on an event Xlib already read
    // off the socket while it waited for an image reply: a poll (new or still in flight from an
    // earlier call) only sees what is still in the socket.
    XFlush(dpy);
    if ((XEventsQueued(dpy, QueuedAlready) as number) > 0) return Promise.resolve();
    if (this.waiting) return this.waiting;
    const fd = XConnectionNumber(dpy) as number;
    this.waiting = waitReadable(fd, timeoutMs).then(() => {
      this.waiting = undefined;
    });
    return this.waiting;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.image.close();
    this.damage.close();
    // A worker thread may still be polling the socket. That is safe: poll() holds its own reference to
    // the socket, so it neither sees a reused descriptor number nor keeps the X connection alive; it
    // just returns at its timeout (at most a second) and its result is ignored. Deferring the close
    // instead would run XCloseDisplay after the server may be gone, which Xlib answers with exit().
    this.conn.close();
  }
}

/**
 * The desktop's monitors. A monitor whose rectangle holds another one whole is dropped: Xvfb keeps its
 * whole-screen monitor next to monitors defined on top of it, and a viewer wants the real ones.
 */
function listMonitors(conn: XDisplayConnection): DisplayInfo[] {
  const whole: DisplayInfo = {
    index: 0,
    name: 'screen',
    x: 0,
    y: 0,
    width: XDisplayWidth(conn.dpy, conn.screen) as number,
    height: XDisplayHeight(conn.dpy, conn.screen) as number,
    primary: true,
  };
  const major = [0];
  const minor = [0];
  if (!XRRQueryVersion(conn.dpy, major, minor) || (major[0] ?? 0) * 100 + (minor[0] ?? 0) < 105)
    return [whole];
  const count = [0];
  const ptr = XRRGetMonitors(conn.dpy, conn.root, 1, count) as unknown;
  if (ptr == null) return [whole];
  let monitors: XRRMonitorInfoFields[];
  try {
    monitors =
      (count[0] ?? 0) > 0
        ? (koffi.decode(ptr, XRRMonitorInfoStruct, count[0] ?? 0) as XRRMonitorInfoFields[])
        : [];
  } finally {
    XRRFreeMonitors(ptr);
  }
  const contains = (a: XRRMonitorInfoFields, b: XRRMonitorInfoFields): boolean =>
    a !== b && a.x <= b.x && a.y <= b.y && a.x + a.width >= b.x + b.width && a.y + a.height >= b.y + b.height;
  const kept = monitors.filter((m) => !monitors.some((other) => contains(m, other)));
  if (kept.length === 0) return [whole];
  const anyPrimary = kept.some((m) => m.primary);
  return kept.map((m, index) => ({
    index,
    name: takeXString(XGetAtomName(conn.dpy, m.name)) || `monitor-${index}`,
    x: m.x,
    y: m.y,
    width: m.width,
    height: m.height,
    primary: anyPrimary ? m.primary !== 0 : index === 0,
  }));
}
