/**
 * Input injection on X11 through XTEST: the events look to every client as if they came from a real
 * keyboard and mouse. Keys are found by keysym in the session's current keymap (see
 * x11-keyboard-map.ts), so the layout the user chose still applies to `key` events while `text` types
 * exactly the characters it is given.
 */
import { openDisplay, type XDisplayConnection } from '../../native/x11/display.js';
import { XFlush, XSync } from '../../native/x11/xlib.js';
import {
  XTestFakeButtonEvent,
  XTestFakeKeyEvent,
  XTestFakeMotionEvent,
  XTestQueryExtension,
} from '../../native/x11/xtest.js';
import type { PointerButton } from '../../protocol/datachannel.js';
import { toDesktopPoint, WheelAccumulator, type DisplayRect, type InputInjector } from './input-injector.js';
import { X11KeyboardMap } from './x11-keyboard-map.js';
import { keysymForChar, keysymForCode } from './x11-keysyms.js';
import { type Logger } from '../../log/logger.js';

/** X core pointer buttons; 8 and 9 are the side buttons browsers call back and forward. */
const X_BUTTON: Record<PointerButton, number> = { left: 1, middle: 2, right: 3, back: 8, forward: 9 };
const WHEEL_UP = 4;
const WHEEL_DOWN = 5;
const WHEEL_LEFT = 6;
const WHEEL_RIGHT = 7;
const XK_SHIFT_L = 0xffe1;

export interface X11InputInjectorOptions {
  /** The X display to inject into (default: $DISPLAY). */
  display?: string;
  log: Pick<Logger, 'debug' | 'warn'>;
}

export function createX11InputInjector(opts: X11InputInjectorOptions): InputInjector {
  const { log } = opts;
  const conn: XDisplayConnection = openDisplay(opts.display);
  const probe = [0];
  if (!XTestQueryExtension(conn.dpy, probe, [0], [0], [0])) {
    conn.close();
    throw new Error(`X display ${conn.name} has no XTEST extension`);
  }
  const dpy = conn.dpy;
  const keymap = new X11KeyboardMap(dpy);
  const wheel = new WheelAccumulator();
  /** KeyboardEvent.code → keycode pressed for it, so the release hits the same key after a remap. */
  const heldByCode = new Map<string, number>();
  const heldKeycodes = (): Set<number> => new Set(heldByCode.values());
  const heldButtons = new Set<number>();
  const unknownCodesLogged = new Set<string>();
  let closed = false;

  /** Runs one injection; logs instead of throwing, and flushes so the event leaves at once. */
  function inject(what: string, fn: () => void): void {
    if (closed) return;
    try {
      fn();
      XFlush(dpy);
    } catch (err) {
      log.warn({ what, err: String(err) }, 'input injection failed');
    }
  }

  function keycodeFor(keysym: number): number | undefined {
    return keymap.find(keysym)?.keycode ?? keymap.borrow(keysym, heldKeycodes());
  }

  function tap(keycode: number, withShift: boolean): void {
    const shift = withShift ? keymap.find(XK_SHIFT_L)?.keycode : undefined;
    if (shift !== undefined) XTestFakeKeyEvent(dpy, shift, 1, 0);
    XTestFakeKeyEvent(dpy, keycode, 1, 0);
    XTestFakeKeyEvent(dpy, keycode, 0, 0);
    if (shift !== undefined) XTestFakeKeyEvent(dpy, shift, 0, 0);
  }

  return {
    pointerMove(rect: DisplayRect, x01, y01) {
      inject('pointer_move', () => {
        const p = toDesktopPoint(rect, x01, y01);
        XTestFakeMotionEvent(dpy, -1, p.x, p.y, 0);
      });
    },
    button(button, down) {
      const b = X_BUTTON[button];
      if (b === undefined) return;
      inject('button', () => {
        XTestFakeButtonEvent(dpy, b, down ? 1 : 0, 0);
        if (down) heldButtons.add(b);
        else heldButtons.delete(b);
      });
    },
    wheel(dx, dy) {
      inject('wheel', () => {
        const notches = wheel.add(dx, dy);
        const click = (b: number, n: number): void => {
          for (let i = 0; i < n; i++) {
            XTestFakeButtonEvent(dpy, b, 1, 0);
            XTestFakeButtonEvent(dpy, b, 0, 0);
          }
        };
        click(notches.y < 0 ? WHEEL_UP : WHEEL_DOWN, Math.abs(notches.y));
        click(notches.x < 0 ? WHEEL_LEFT : WHEEL_RIGHT, Math.abs(notches.x));
      });
    },
    key(code, down) {
      inject('key', () => {
        let keycode = down ? undefined : heldByCode.get(code);
        if (keycode === undefined) {
          const keysym = keysymForCode(code);
          keycode = keysym === undefined ? undefined : keycodeFor(keysym);
        }
        if (keycode === undefined) {
          if (!unknownCodesLogged.has(code) && unknownCodesLogged.size < 64) {
            unknownCodesLogged.add(code);
            log.warn({ code }, 'no X key for this KeyboardEvent.code; dropped');
          }
          return;
        }
        // A repeated keydown (browser auto-repeat) is passed on: X treats it as a repeat.
        XTestFakeKeyEvent(dpy, keycode, down ? 1 : 0, 0);
        if (down) heldByCode.set(code, keycode);
        else heldByCode.delete(code);
      });
    },
    text(text) {
      inject('text', () => {
        for (const ch of text) {
          const cp = ch.codePointAt(0) ?? 0;
          if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || cp === 0x7f) continue;
          const keysym = keysymForChar(cp);
          const placed = keymap.find(keysym);
          if (placed) {
            tap(placed.keycode, placed.level === 1);
            continue;
          }
          const borrowed = keymap.borrow(keysym, heldKeycodes());
          if (borrowed === undefined) {
            log.warn({ codePoint: cp }, 'no spare keycode to type this character; dropped');
            continue;
          }
          tap(borrowed, false);
        }
      });
    },
    releaseAll() {
      inject('release_all', () => {
        for (const keycode of heldKeycodes()) XTestFakeKeyEvent(dpy, keycode, 0, 0);
        heldByCode.clear();
        for (const b of heldButtons) XTestFakeButtonEvent(dpy, b, 0, 0);
        heldButtons.clear();
        wheel.reset();
      });
    },
    close() {
      if (closed) return;
      this.releaseAll();
      try {
        keymap.restore();
        XSync(dpy, 0);
      } catch (err) {
        log.warn({ err: String(err) }, 'restoring the keymap failed');
      }
      closed = true;
      conn.close();
    },
  };
}
