/**
 * The cursor under X11. The X server composites the cursor in hardware (or in Xvfb, not at all), so it
 * never appears in captured pixels; the viewer draws it from this position and shape instead.
 *
 * Each `read()` is one XFixesGetCursorImage round trip, which carries the position and the shape's
 * serial; the pixels are converted only when the serial changes.
 */
import koffi from 'koffi';
import type { XDisplayConnection } from '../../native/x11/display.js';
import {
  XFixesCursorImageStruct,
  XFixesGetCursorImage,
  XFixesQueryExtension,
  type XFixesCursorImageFields,
} from '../../native/x11/xfixes.js';
import { XFree } from '../../native/x11/xlib.js';
import { CaptureError, type CursorShape, type CursorSource, type CursorState } from './capturer.js';

export class X11CursorSource implements CursorSource {
  private lastSerial = -1;
  private closed = false;

  constructor(private readonly conn: XDisplayConnection) {
    if (!XFixesQueryExtension(conn.dpy, [0], [0])) {
      conn.close();
      throw new CaptureError('unsupported', 'the X server has no XFIXES extension (needed for the cursor)');
    }
  }

  read(): CursorState {
    if (this.closed) throw new CaptureError('closed', 'read on a closed cursor source');
    const ptr = XFixesGetCursorImage(this.conn.dpy) as unknown;
    if (ptr == null) throw new CaptureError('failed', 'XFixesGetCursorImage failed');
    try {
      const img = koffi.decode(ptr, XFixesCursorImageStruct) as XFixesCursorImageFields;
      const state: CursorState = { x: img.x, y: img.y, serial: img.cursor_serial };
      if (img.cursor_serial !== this.lastSerial) {
        this.lastSerial = img.cursor_serial;
        state.shape = toShape(img);
      }
      return state;
    } finally {
      XFree(ptr);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close();
  }
}

/** XFixes pixels are `unsigned long` (8 bytes on LP64) holding premultiplied ARGB; we hand out straight RGBA. */
function toShape(img: XFixesCursorImageFields): CursorShape {
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  if (n > 0 && img.pixels != null) {
    const src = new Uint8Array(koffi.view(img.pixels, n * 8));
    for (let i = 0; i < n; i++) {
      const b = src[i * 8] ?? 0;
      const g = src[i * 8 + 1] ?? 0;
      const r = src[i * 8 + 2] ?? 0;
      const a = src[i * 8 + 3] ?? 0;
      const o = i * 4;
      if (a === 0) continue;
      rgba[o] = Math.min(255, Math.round((r * 255) / a));
      rgba[o + 1] = Math.min(255, Math.round((g * 255) / a));
      rgba[o + 2] = Math.min(255, Math.round((b * 255) / a));
      rgba[o + 3] = a;
    }
  }
  return {
    serial: img.cursor_serial,
    width: img.width,
    height: img.height,
    hotX: img.xhot,
    hotY: img.yhot,
    rgba,
  };
}
