/**
 * user32.dll input structures (SendInput's INPUT with MOUSEINPUT / KEYBDINPUT / HARDWAREINPUT), for
 * the helper's Windows input injector (src/helper/input/win32-input-injector.ts, which calls SendInput
 * through user32.ts). The layouts are ABI-checked against the Windows headers (test/win32/abi.test.ts).
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

/** The C header's anonymous union is the member `u` here (its offset is that of `mi`). */
export const INPUT = koffi.struct('INPUT', {
  type: 'DWORD',
  u: koffi.union('INPUT_UNION', { mi: MOUSEINPUT, ki: KEYBDINPUT, hi: HARDWAREINPUT }),
});
