/**
 * user32.dll input structures (SendInput's INPUT with MOUSEINPUT / KEYBDINPUT / HARDWAREINPUT), for
 * the helper's Windows input injector (src/helper/input/win32-input-injector.ts, which calls SendInput
 * through user32.ts), with the flags SendInput takes. The layouts and the constants are checked against the
 * Windows headers (test/win32/abi.test.ts).
 */
import koffi from 'koffi';
import './library.js';

export const MOUSEINPUT = koffi.struct('MOUSEINPUT', {
  dx: 'LONG',
  dy: 'LONG',
  mouseData: 'DWORD',
  dwFlags: 'DWORD',
  time: 'DWORD',
  dwExtraInfo: 'ULONG_PTR',
});

export const KEYBDINPUT = koffi.struct('KEYBDINPUT', {
  wVk: 'WORD',
  wScan: 'WORD',
  dwFlags: 'DWORD',
  time: 'DWORD',
  dwExtraInfo: 'ULONG_PTR',
});

export const HARDWAREINPUT = koffi.struct('HARDWAREINPUT', {
  uMsg: 'DWORD',
  wParamL: 'WORD',
  wParamH: 'WORD',
});

/** INPUT.type: which member of the union is filled. */
export const INPUT_MOUSE = 0;
export const INPUT_KEYBOARD = 1;

/** MOUSEINPUT.dwFlags (MOUSEEVENTF_*). */
export const MOUSEEVENTF = {
  MOVE: 0x0001,
  LEFTDOWN: 0x0002,
  LEFTUP: 0x0004,
  RIGHTDOWN: 0x0008,
  RIGHTUP: 0x0010,
  MIDDLEDOWN: 0x0020,
  MIDDLEUP: 0x0040,
  XDOWN: 0x0080,
  XUP: 0x0100,
  WHEEL: 0x0800,
  HWHEEL: 0x1000,
  VIRTUALDESK: 0x4000,
  ABSOLUTE: 0x8000,
} as const;
/** KEYBDINPUT.dwFlags (KEYEVENTF_*). */
export const KEYEVENTF = { EXTENDEDKEY: 0x1, KEYUP: 0x2, UNICODE: 0x4, SCANCODE: 0x8 } as const;
/** MOUSEINPUT.mouseData with MOUSEEVENTF_XDOWN/XUP: which X button. */
export const XBUTTON1 = 0x1;
export const XBUTTON2 = 0x2;
/** MOUSEINPUT.mouseData with MOUSEEVENTF_WHEEL/HWHEEL: one notch. */
export const WHEEL_DELTA = 120;

/** The C header's anonymous union is the member `u` here (its offset is that of `mi`). */
export const INPUT = koffi.struct('INPUT', {
  type: 'DWORD',
  u: koffi.union('INPUT_UNION', { mi: MOUSEINPUT, ki: KEYBDINPUT, hi: HARDWAREINPUT }),
});
