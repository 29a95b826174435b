/**
 * Test helpers that change an Xvfb screen from a separate X connection: fill a rectangle of the root
 * window with a colour, and define RandR monitors (Xvfb has one screen; two monitors on it are how a
 * two-monitor desktop looks to RandR clients).
 */
import koffi from 'koffi';
import { openDisplay } from '../../../src/native/x11/display.js';
import { XSync, libX11 } from '../../../src/native/x11/xlib.js';
import { XRRAllocateMonitor, XRRMonitorInfoStruct, XRRSetMonitor } from '../../../src/native/x11/xrandr.js';
import { XInternAtom, XFree } from '../../../src/native/x11/xlib.js';

const XCreateGC = libX11.func(
  'void *XCreateGC(Display *display, unsigned long d, unsigned long valuemask, void *values)',
);
const XFreeGC = libX11.func('int XFreeGC(Display *display, void *gc)');
const XSetForeground = libX11.func(
  'int XSetForeground(Display *display, void *gc, unsigned long foreground)',
);
const XFillRectangle = libX11.func(
  'int XFillRectangle(Display *display, unsigned long d, void *gc, int x, int y, unsigned int width, unsigned int height)',
);

/** Fills a root-window rectangle with 0xRRGGBB. */
export function fillRect(
  display: string,
  rect: { x: number; y: number; width: number; height: number },
  rgb: number,
): void {
  const conn = openDisplay(display);
  try {
    const gc = XCreateGC(conn.dpy, conn.root, 0, null);
    XSetForeground(conn.dpy, gc, rgb);
    XFillRectangle(conn.dpy, conn.root, gc, rect.x, rect.y, rect.width, rect.height);
    XFreeGC(conn.dpy, gc);
    XSync(conn.dpy, 0);
  } finally {
    conn.close();
  }
}

/** Defines RandR monitors (name and rectangle) on the display's root window. */
export function defineMonitors(
  display: string,
  monitors: { name: string; x: number; y: number; width: number; height: number; primary?: boolean }[],
): void {
  const conn = openDisplay(display);
  try {
    for (const m of monitors) {
      const info = XRRAllocateMonitor(conn.dpy, 0) as unknown;
      koffi.encode(info, XRRMonitorInfoStruct, {
        name: XInternAtom(conn.dpy, m.name, 0) as number,
        primary: m.primary ? 1 : 0,
        automatic: 0,
        noutput: 0,
        x: m.x,
        y: m.y,
        width: m.width,
        height: m.height,
        mwidth: Math.round(m.width / 4),
        mheight: Math.round(m.height / 4),
        outputs: null,
      });
      XRRSetMonitor(conn.dpy, conn.root, info);
      XFree(info);
    }
    XSync(conn.dpy, 0);
  } finally {
    conn.close();
  }
}
