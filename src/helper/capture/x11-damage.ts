/**
 * Change detection with the DAMAGE extension. One damage object on the root window accumulates every
 * drawn rectangle; when the server has signalled damage, `take()` moves the accumulated region into a
 * server-side region, clears it and fetches its rectangles, so nothing drawn between two calls is lost
 * or reported twice.
 */
import koffi from 'koffi';
import type { XDisplayConnection } from '../../native/x11/display.js';
import {
  XDamageCreate,
  XDamageDestroy,
  XDamageNotify,
  XDamageQueryExtension,
  XDamageReportNonEmpty,
  XDamageSubtract,
} from '../../native/x11/xdamage.js';
import {
  XFixesCreateRegion,
  XFixesDestroyRegion,
  XFixesFetchRegion,
  XFixesQueryExtension,
} from '../../native/x11/xfixes.js';
import {
  XEVENT_SIZE,
  XFree,
  XNextEvent,
  XPending,
  XRectangleStruct,
  type XRectangle,
} from '../../native/x11/xlib.js';
import { CaptureError, type Rect } from './capturer.js';

export class DamageTracker {
  private readonly damage: number;
  private readonly region: number;
  private readonly event = Buffer.alloc(XEVENT_SIZE);
  private readonly notifyType: number;
  /** Until the first take(), report whatever damage exists without waiting for an event. */
  private primed = false;
  private closed = false;

  constructor(private readonly conn: XDisplayConnection) {
    const base = [0];
    if (!XDamageQueryExtension(conn.dpy, base, [0]))
      throw new CaptureError('unsupported', 'the X server has no DAMAGE extension');
    if (!XFixesQueryExtension(conn.dpy, [0], [0]))
      throw new CaptureError('unsupported', 'the X server has no XFIXES extension');
    // NonEmpty: one event when the damage goes from empty to non-empty, not one per drawing request.
    this.notifyType = (base[0] ?? 0) + XDamageNotify;
    this.damage = XDamageCreate(conn.dpy, conn.root, XDamageReportNonEmpty) as number;
    this.region = XFixesCreateRegion(conn.dpy, null, 0) as number;
  }

  /** The rectangles (root coordinates) drawn since the previous call; empty when nothing changed. */
  take(): Rect[] {
    const { dpy } = this.conn;
    // With NonEmpty reporting the server sends one DamageNotify when the damage goes from empty to
    // non-empty. No event since the last subtract means nothing was drawn: answer without a round
    // trip (XPending only peeks at the socket), which is what makes a static screen nearly free.
    let damaged = !this.primed;
    this.primed = true;
    while ((XPending(dpy) as number) > 0) {
      XNextEvent(dpy, this.event);
      if (this.event.readInt32LE(0) === this.notifyType) damaged = true;
    }
    if (!damaged) return [];
    XDamageSubtract(dpy, this.damage, 0, this.region);
    const count = [0];
    const ptr = XFixesFetchRegion(dpy, this.region, count) as unknown;
    const n = count[0] ?? 0;
    if (ptr == null) return [];
    try {
      if (n === 0) return [];
      return (koffi.decode(ptr, XRectangleStruct, n) as XRectangle[]).map((r) => ({
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
      }));
    } finally {
      XFree(ptr);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    XFixesDestroyRegion(this.conn.dpy, this.region);
    XDamageDestroy(this.conn.dpy, this.damage);
  }
}

/** The parts of `rects` inside `area`, relative to `area`'s origin. */
export function clipRects(rects: Rect[], area: Rect): Rect[] {
  const out: Rect[] = [];
  for (const r of rects) {
    const x0 = Math.max(r.x, area.x);
    const y0 = Math.max(r.y, area.y);
    const x1 = Math.min(r.x + r.width, area.x + area.width);
    const y1 = Math.min(r.y + r.height, area.y + area.height);
    if (x1 > x0 && y1 > y0) out.push({ x: x0 - area.x, y: y0 - area.y, width: x1 - x0, height: y1 - y0 });
  }
  return out;
}
