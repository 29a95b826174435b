/**
 * What the X server believes is held: every key down (XQueryKeymap, one bit per keycode) and the
 * pointer's buttons and position (XQueryPointer), read over this process's own X connection. xdotool
 * cannot read the keymap, and the server is the only place a stuck key shows for certain: whatever
 * the helper thinks it released, the user's applications see what the server says.
 */
import { openDisplay } from '../../src/native/x11/display.js';
import { XQueryPointer } from '../../src/native/x11/xlib.js';
import { XQueryKeymap } from '../../src/native/x11/xtest.js';

/** Button1Mask … Button5Mask in XQueryPointer's mask (X.h). */
const BUTTON_MASKS = 0x1f00;

export interface XInputState {
  /** Keycodes the server has down. */
  keys(): number[];
  /** Button numbers (1 left, 2 middle, 3 right, 4/5 wheel) the server has down. */
  buttons(): number[];
  pointer(): { x: number; y: number };
  /** Closes the connection; call it before the X server is stopped (Xlib exits on a lost server). */
  close(): void;
}

export function watchXInput(display: string): XInputState {
  const conn = openDisplay(display);
  const query = (): { x: number; y: number; mask: number } => {
    const x = [0];
    const y = [0];
    const mask = [0];
    XQueryPointer(conn.dpy, conn.root, [0], [0], x, y, [0], [0], mask);
    return { x: x[0]!, y: y[0]!, mask: mask[0]! };
  };
  let closed = false;
  return {
    keys() {
      const bits = Buffer.alloc(32);
      XQueryKeymap(conn.dpy, bits);
      const down: number[] = [];
      for (let code = 8; code < 256; code++) if (bits[code >> 3]! & (1 << (code & 7))) down.push(code);
      return down;
    },
    buttons() {
      const mask = query().mask & BUTTON_MASKS;
      return [1, 2, 3, 4, 5].filter((b) => mask & (1 << (b + 7)));
    },
    pointer() {
      const { x, y } = query();
      return { x, y };
    },
    close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
