/**
 * Input injection on Windows through SendInput: the pointer in absolute virtual-desktop coordinates,
 * keys by scancode (the session's layout applies, as for a local keyboard), text as KEYEVENTF_UNICODE
 * characters (whatever the layout). Ctrl+Alt+Del is not injected here: only a service may send it, so the
 * helper asks the service (../../service/secure-attention.ts, over the pipe).
 *
 * SendInput reaches the thread's desktop only, so each injection first follows the input desktop
 * (../win32-input-desktop/input-desktop-follower.ts); on the secure desktop (UAC, lock screen) that needs a SYSTEM helper.
 */
import koffi from 'koffi';
import {
  INPUT,
  INPUT_KEYBOARD,
  INPUT_MOUSE,
  KEYEVENTF,
  MOUSEEVENTF,
  WHEEL_DELTA,
  XBUTTON1,
  XBUTTON2,
} from '../../native/win32/input-structs.js';
import { MAPVK_VSC_TO_VK_EX, SM, user32 } from '../../native/win32/user32.js';
import { lastError } from '../../native/win32/last-error.js';
import type { PointerButton } from '../../protocol/datachannel.js';
import { InputDesktopFollower } from '../win32-input-desktop/input-desktop-follower.js';
import { toDesktopPoint, WheelAccumulator, type DisplayRect, type InputInjector } from './input-injector.js';
import { scancodeForCode } from './win32-scancodes.js';
import { errorMessage } from '../../errors/error-text.js';
import { type Logger } from '../../log/logger.js';

/** MapVirtualKeyW's uCode for an extended scancode: 0xE0 in the high byte (MapVirtualKeyW docs). */
const EXTENDED_SCANCODE_PREFIX = 0xe000;

/** Each button's down flag, up flag and mouseData (X buttons say which one there). */
const BUTTONS: Record<PointerButton, { down: number; up: number; data: number }> = {
  left: { down: MOUSEEVENTF.LEFTDOWN, up: MOUSEEVENTF.LEFTUP, data: 0 },
  right: { down: MOUSEEVENTF.RIGHTDOWN, up: MOUSEEVENTF.RIGHTUP, data: 0 },
  middle: { down: MOUSEEVENTF.MIDDLEDOWN, up: MOUSEEVENTF.MIDDLEUP, data: 0 },
  back: { down: MOUSEEVENTF.XDOWN, up: MOUSEEVENTF.XUP, data: XBUTTON1 },
  forward: { down: MOUSEEVENTF.XDOWN, up: MOUSEEVENTF.XUP, data: XBUTTON2 },
};

interface MouseInputFields {
  dx: number;
  dy: number;
  mouseData: number;
  dwFlags: number;
}
interface KeyInputFields {
  wVk: number;
  wScan: number;
  dwFlags: number;
}

function mouse(m: MouseInputFields): object {
  return { type: INPUT_MOUSE, u: { mi: { ...m, time: 0, dwExtraInfo: 0 } } };
}
function keyboard(k: KeyInputFields): object {
  return { type: INPUT_KEYBOARD, u: { ki: { ...k, time: 0, dwExtraInfo: 0 } } };
}

/** A desktop pixel → SendInput's 0..65535 over the virtual screen (all monitors). */
export function toVirtualDeskUnits(
  x: number,
  y: number,
  virtual: { x: number; y: number; width: number; height: number },
): { dx: number; dy: number } {
  const scale = (v: number, origin: number, size: number): number =>
    Math.max(0, Math.min(65535, Math.round(((v - origin) * 65535) / Math.max(1, size - 1))));
  return { dx: scale(x, virtual.x, virtual.width), dy: scale(y, virtual.y, virtual.height) };
}

export interface Win32InputInjectorOptions {
  log: Pick<Logger, 'debug' | 'warn'> & Partial<Pick<Logger, 'info'>>;
}

export function createWin32InputInjector(opts: Win32InputInjectorOptions): InputInjector {
  const { log } = opts;
  const follower = new InputDesktopFollower({
    info: (o, m) => log.debug(o, m),
    warn: (o, m) => log.warn(o, m),
  });
  const wheel = new WheelAccumulator();
  const heldKeys = new Map<string, { scan: number; extended: boolean }>();
  const heldButtons = new Set<PointerButton>();
  const unknownCodesLogged = new Set<string>();
  const inputSize = koffi.sizeof(INPUT);
  let closed = false;

  function send(what: string, inputs: object[]): void {
    if (closed || inputs.length === 0) return;
    try {
      follower.sync();
      const n = user32().SendInput(inputs.length, inputs, inputSize) as number;
      // 0 with no error means UIPI blocked it (an elevated window has the focus and we are not).
      if (n !== inputs.length)
        log.warn(
          { what, sent: n, of: inputs.length, err: lastError('SendInput').message },
          'input not injected',
        );
    } catch (err) {
      log.warn({ what, err: errorMessage(err) }, 'input not injected');
    }
  }

  function keyInput(k: { scan: number; extended: boolean }, down: boolean): object {
    // Windows ignores wVk when KEYEVENTF_SCANCODE is set; Wine 8 needs it to produce WM_KEYDOWN/WM_CHAR.
    const vk = user32().MapVirtualKeyW(
      k.extended ? EXTENDED_SCANCODE_PREFIX | k.scan : k.scan,
      MAPVK_VSC_TO_VK_EX,
    ) as number;
    return keyboard({
      wVk: vk,
      wScan: k.scan,
      dwFlags: KEYEVENTF.SCANCODE | (k.extended ? KEYEVENTF.EXTENDEDKEY : 0) | (down ? 0 : KEYEVENTF.KEYUP),
    });
  }

  return {
    pointerMove(rect: DisplayRect, x01: number, y01: number) {
      const p = toDesktopPoint(rect, x01, y01);
      const u = user32();
      const virtual = {
        x: u.GetSystemMetrics(SM.XVIRTUALSCREEN) as number,
        y: u.GetSystemMetrics(SM.YVIRTUALSCREEN) as number,
        width: u.GetSystemMetrics(SM.CXVIRTUALSCREEN) as number,
        height: u.GetSystemMetrics(SM.CYVIRTUALSCREEN) as number,
      };
      const { dx, dy } = toVirtualDeskUnits(p.x, p.y, virtual);
      send('pointerMove', [
        mouse({
          dx,
          dy,
          mouseData: 0,
          dwFlags: MOUSEEVENTF.MOVE | MOUSEEVENTF.ABSOLUTE | MOUSEEVENTF.VIRTUALDESK,
        }),
      ]);
    },
    button(button: PointerButton, down: boolean) {
      const b = BUTTONS[button];
      if (!b) return;
      if (down) heldButtons.add(button);
      else heldButtons.delete(button);
      send('button', [mouse({ dx: 0, dy: 0, mouseData: b.data, dwFlags: down ? b.down : b.up })]);
    },
    wheel(dx: number, dy: number) {
      const notches = wheel.add(dx, dy);
      const inputs: object[] = [];
      // Windows: a positive WHEEL delta scrolls up (away from the user), a positive HWHEEL right.
      if (notches.y !== 0)
        inputs.push(
          mouse({ dx: 0, dy: 0, mouseData: (-notches.y * WHEEL_DELTA) >>> 0, dwFlags: MOUSEEVENTF.WHEEL }),
        );
      if (notches.x !== 0)
        inputs.push(
          mouse({ dx: 0, dy: 0, mouseData: (notches.x * WHEEL_DELTA) >>> 0, dwFlags: MOUSEEVENTF.HWHEEL }),
        );
      send('wheel', inputs);
    },
    key(code: string, down: boolean) {
      const k = down ? scancodeForCode(code) : (heldKeys.get(code) ?? scancodeForCode(code));
      if (!k) {
        if (!unknownCodesLogged.has(code)) {
          unknownCodesLogged.add(code);
          log.warn({ code }, 'no scancode for this key; ignored');
        }
        return;
      }
      if (down) heldKeys.set(code, k);
      else heldKeys.delete(code);
      send('key', [keyInput(k, down)]);
    },
    text(text: string) {
      const inputs: object[] = [];
      for (let i = 0; i < text.length; i += 1) {
        const unit = text.charCodeAt(i);
        inputs.push(keyboard({ wVk: 0, wScan: unit, dwFlags: KEYEVENTF.UNICODE }));
        inputs.push(keyboard({ wVk: 0, wScan: unit, dwFlags: KEYEVENTF.UNICODE | KEYEVENTF.KEYUP }));
      }
      send('text', inputs);
    },
    releaseAll() {
      const inputs: object[] = [];
      for (const k of heldKeys.values()) inputs.push(keyInput(k, false));
      for (const b of heldButtons)
        inputs.push(mouse({ dx: 0, dy: 0, mouseData: BUTTONS[b].data, dwFlags: BUTTONS[b].up }));
      heldKeys.clear();
      heldButtons.clear();
      wheel.reset();
      send('releaseAll', inputs);
    },
    close() {
      if (closed) return;
      this.releaseAll();
      closed = true;
      follower.close();
    },
  };
}
