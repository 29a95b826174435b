/**
 * X11: the indicator as an override-redirect window drawn with the core protocol (Xlib through koffi),
 * at the top centre of the primary monitor: "NAME is viewing this screen" [Chat] [Disconnect].
 *
 * - Override-redirect, so no window manager frames, moves, iconifies or hides it, and it needs none
 *   (bare X servers, kiosks). It is raised again whenever another window covers part of it
 *   (VisibilityNotify), so it stays on top without fighting for the focus: it never takes it.
 * - **It is captured into the stream**: X11 has no way to exclude a window from another client's
 *   XGetImage/XShm reads of the root (XComposite would only help a compositor of our own). The viewer
 *   sees the bar too, which also tells the viewer the person was told.
 * - Text is drawn with a core font ("fixed" is always present), so only Latin-1 shows as such; other
 *   characters become `?` in the drawing. The window's name (`_NET_WM_NAME`, UTF-8) carries the full text.
 * - Its own X connection, events read every 100 ms on the JS thread (as the clipboard watch does):
 *   ButtonPress on a button, Expose to redraw, VisibilityNotify to raise. close() destroys the window,
 *   frees the GC and font and closes the connection.
 * - Colours are TrueColor pixel values (0xRRGGBB), what every 24/32-bit visual uses.
 */
import koffi from 'koffi';
import { openDisplay, type XDisplayConnection } from '../../native/x11/display.js';
import {
  XDisplayHeight,
  XDisplayWidth,
  XEVENT_SIZE,
  XFlush,
  XInternAtom,
  XNextEvent,
  XPending,
} from '../../native/x11/xlib.js';
import {
  XRRFreeMonitors,
  XRRGetMonitors,
  XRRMonitorInfoStruct,
  type XRRMonitorInfoFields,
} from '../../native/x11/xrandr.js';
import {
  ButtonPress,
  ButtonPressMask,
  CWBackPixel,
  CWBorderPixel,
  CWEventMask,
  CWOverrideRedirect,
  Expose,
  ExposureMask,
  InputOutput,
  PropModeReplace,
  readFontStruct,
  VisibilityChangeMask,
  VisibilityNotify,
  VisibilityUnobscured,
  XChangeProperty,
  XCreateGC,
  XCreateWindow,
  XDestroyWindow,
  XDrawRectangle,
  XDrawString,
  XEventOffsets,
  XFillRectangle,
  XFreeFont,
  XFreeGC,
  XLoadQueryFont,
  XMapRaised,
  XMoveResizeWindow,
  XRaiseWindow,
  XSelectInput,
  XSetFont,
  XSetForeground,
  XStoreName,
  XTextWidth,
} from '../../native/x11/xwindow.js';
import type { IndicatorEvents, IndicatorWindow } from './indicator.js';

/** The window's name starts with this, so a person (or a test) finds it in the window tree. */
export const INDICATOR_NAME_PREFIX = 'porthole: ';
/** Larger fonts first; "fixed" is the alias every X server has. */
const FONTS = ['-misc-fixed-bold-r-normal--18-*-*-*-*-*-iso8859-1', '9x15bold', 'fixed'];
const PAD = 8;
const GAP = 6;
const BUTTON_PAD = 8;
const POLL_MS = 100;
const COLOURS = { background: 0x8b1a1a, text: 0xffffff, button: 0xf2f2f2, buttonText: 0x1a1a1a };

type ButtonName = 'chat' | 'disconnect';

interface Layout {
  x: number;
  y: number;
  width: number;
  height: number;
  text: Buffer;
  baseline: number;
  buttons: { name: ButtonName; label: Buffer; x: number; width: number }[];
}

/** Latin-1 bytes for a core font; characters outside it become `?`. */
export function latin1(text: string): Buffer {
  return Buffer.from([...text].map((c) => (c.codePointAt(0)! <= 0xff ? c : '?')).join(''), 'latin1');
}

export interface X11IndicatorOptions {
  /** The display (default `$DISPLAY`). */
  display?: string;
  pollMs?: number;
}

/** The X11 indicator, with where its buttons are (window coordinates), for tests that press them. */
export interface X11IndicatorWindow extends IndicatorWindow {
  buttons(): { name: ButtonName; x: number; y: number; width: number; height: number }[];
}

export function openX11Indicator(
  text: string,
  events: IndicatorEvents,
  opts: X11IndicatorOptions = {},
): X11IndicatorWindow {
  const conn = openDisplay(opts.display);
  let font: unknown;
  let gc: unknown;
  let win = 0;
  try {
    for (const name of FONTS) {
      font = XLoadQueryFont(conn.dpy, name);
      if (font != null) break;
    }
    if (font == null) throw new Error('no core font could be loaded (not even "fixed")');
    const metrics = readFontStruct(font);
    const attrs = {
      background_pixel: COLOURS.background,
      border_pixel: COLOURS.text,
      override_redirect: 1,
      event_mask: ButtonPressMask | ExposureMask | VisibilityChangeMask,
    };
    win = Number(
      XCreateWindow(
        conn.dpy,
        conn.root,
        0,
        0,
        1,
        1,
        1,
        0, // CopyFromParent
        InputOutput,
        null, // CopyFromParent
        CWBackPixel | CWBorderPixel | CWOverrideRedirect | CWEventMask,
        attrs,
      ),
    );
    if (!win) throw new Error('XCreateWindow failed');
    XSelectInput(conn.dpy, win, attrs.event_mask);
    gc = XCreateGC(conn.dpy, win, 0, null);
    XSetFont(conn.dpy, gc, metrics.fid);
    return new X11Indicator(conn, win, gc, font, metrics, text, events, opts.pollMs ?? POLL_MS);
  } catch (err) {
    if (gc) XFreeGC(conn.dpy, gc);
    if (win) XDestroyWindow(conn.dpy, win);
    if (font != null) XFreeFont(conn.dpy, font);
    conn.close();
    throw err;
  }
}

class X11Indicator implements X11IndicatorWindow {
  private layout: Layout;
  private readonly timer: NodeJS.Timeout;
  private readonly event = Buffer.alloc(XEVENT_SIZE);
  private closed = false;

  constructor(
    private readonly conn: XDisplayConnection,
    private readonly win: number,
    private readonly gc: unknown,
    private readonly font: unknown,
    private readonly metrics: { ascent: number; descent: number },
    text: string,
    private readonly events: IndicatorEvents,
    pollMs: number,
  ) {
    this.layout = this.place(text);
    XMapRaised(conn.dpy, win);
    this.draw();
    XFlush(conn.dpy);
    this.timer = setInterval(() => this.pump(), pollMs);
    this.timer.unref();
  }

  buttons(): ReturnType<X11IndicatorWindow['buttons']> {
    const l = this.layout;
    return l.buttons.map((b) => ({
      name: b.name,
      x: b.x,
      y: PAD,
      width: b.width,
      height: l.height - 2 * PAD,
    }));
  }

  setText(text: string): void {
    if (this.closed) return;
    this.layout = this.place(text);
    XRaiseWindow(this.conn.dpy, this.win);
    this.draw();
    XFlush(this.conn.dpy);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    XFreeGC(this.conn.dpy, this.gc);
    XDestroyWindow(this.conn.dpy, this.win);
    XFreeFont(this.conn.dpy, this.font);
    this.conn.close();
  }

  /** Sizes the window for `text`, names it, and moves it to the top centre of the primary monitor. */
  private place(text: string): Layout {
    const { dpy } = this.conn;
    const name = `${INDICATOR_NAME_PREFIX}${text}`;
    XStoreName(dpy, this.win, latin1(name).toString('latin1'));
    const utf8 = Buffer.from(name, 'utf8');
    XChangeProperty(
      dpy,
      this.win,
      XInternAtom(dpy, '_NET_WM_NAME', 0),
      XInternAtom(dpy, 'UTF8_STRING', 0),
      8,
      PropModeReplace,
      utf8,
      utf8.length,
    );
    const monitor = primaryMonitor(this.conn);
    const width = (b: Buffer): number => XTextWidth(this.font, b, b.length) as number;
    const lineHeight = this.metrics.ascent + this.metrics.descent;
    const buttonHeight = lineHeight + BUTTON_PAD;
    const height = buttonHeight + 2 * PAD;
    const labels: { name: ButtonName; label: Buffer }[] = [
      { name: 'chat', label: latin1('Chat') },
      { name: 'disconnect', label: latin1('Disconnect') },
    ];
    const buttonsWidth = labels.reduce((w, b) => w + width(b.label) + 2 * BUTTON_PAD + GAP, 0);
    // The text is shortened to what fits the monitor beside the buttons.
    let shown = latin1(text);
    const room = Math.max(40, monitor.width - buttonsWidth - 3 * PAD);
    while (shown.length > 1 && width(shown) > room) {
      shown = Buffer.concat([shown.subarray(0, Math.max(1, shown.length - 4)), latin1('...')]);
    }
    const total = PAD + width(shown) + PAD + buttonsWidth + PAD - GAP;
    let bx = PAD + width(shown) + PAD;
    const buttons = labels.map((b) => {
      const w = width(b.label) + 2 * BUTTON_PAD;
      const button = { ...b, x: bx, width: w };
      bx += w + GAP;
      return button;
    });
    const layout: Layout = {
      x: monitor.x + Math.max(0, Math.floor((monitor.width - total) / 2)),
      y: monitor.y,
      width: total,
      height,
      text: shown,
      baseline: PAD + BUTTON_PAD / 2 + this.metrics.ascent,
      buttons,
    };
    XMoveResizeWindow(dpy, this.win, layout.x, layout.y, layout.width, layout.height);
    return layout;
  }

  private draw(): void {
    const { dpy } = this.conn;
    const l = this.layout;
    XSetForeground(dpy, this.gc, COLOURS.background);
    XFillRectangle(dpy, this.win, this.gc, 0, 0, l.width, l.height);
    XSetForeground(dpy, this.gc, COLOURS.text);
    XDrawString(dpy, this.win, this.gc, PAD, l.baseline, l.text, l.text.length);
    for (const b of l.buttons) {
      XSetForeground(dpy, this.gc, COLOURS.button);
      XFillRectangle(dpy, this.win, this.gc, b.x, PAD, b.width, l.height - 2 * PAD);
      XSetForeground(dpy, this.gc, COLOURS.buttonText);
      XDrawRectangle(dpy, this.win, this.gc, b.x, PAD, b.width - 1, l.height - 2 * PAD - 1);
      XDrawString(dpy, this.win, this.gc, b.x + BUTTON_PAD, l.baseline, b.label, b.label.length);
    }
  }

  private pump(): void {
    if (this.closed) return;
    const { dpy } = this.conn;
    let pressed: ButtonName | undefined;
    let redraw = false;
    while ((XPending(dpy) as number) > 0) {
      XNextEvent(dpy, this.event);
      const type = this.event.readInt32LE(XEventOffsets.type);
      if (type === Expose && this.event.readInt32LE(XEventOffsets.exposeCount) === 0) redraw = true;
      else if (type === VisibilityNotify) {
        if (this.event.readInt32LE(XEventOffsets.visibilityState) !== VisibilityUnobscured)
          XRaiseWindow(dpy, this.win);
      } else if (type === ButtonPress && this.event.readUInt32LE(XEventOffsets.buttonButton) === 1) {
        const x = this.event.readInt32LE(XEventOffsets.buttonX);
        const y = this.event.readInt32LE(XEventOffsets.buttonY);
        const hit = this.layout.buttons.find(
          (b) => x >= b.x && x < b.x + b.width && y >= PAD && y < this.layout.height - PAD,
        );
        if (hit) pressed = hit.name;
      }
    }
    if (redraw) this.draw();
    XFlush(dpy);
    // After the queue is drained: the callback may close this window.
    if (pressed === 'disconnect') this.events.disconnect();
    else if (pressed === 'chat') this.events.chat();
  }
}

/** The primary RandR monitor (else the first, else the whole root window). */
function primaryMonitor(conn: XDisplayConnection): { x: number; y: number; width: number; height: number } {
  const whole = {
    x: 0,
    y: 0,
    width: XDisplayWidth(conn.dpy, conn.screen) as number,
    height: XDisplayHeight(conn.dpy, conn.screen) as number,
  };
  const count = [0];
  let list: unknown;
  try {
    list = XRRGetMonitors(conn.dpy, conn.root, 1, count);
  } catch {
    return whole;
  }
  if (list == null) return whole;
  try {
    const monitors = koffi.decode(list, XRRMonitorInfoStruct, count[0]!) as XRRMonitorInfoFields[];
    const m = monitors.find((x) => x.primary) ?? monitors[0];
    return m && m.width > 0 ? { x: m.x, y: m.y, width: m.width, height: m.height } : whole;
  } finally {
    XRRFreeMonitors(list);
  }
}
