/**
 * Test windows for the desktop suites: a solid-colour popup (for capture) and an EDIT control (for
 * typed text), drawn on the thread's desktop under Wine's X driver. Declared here, not in src: the
 * helper keeps no window (SetThreadDesktop would then fail, see src/helper/win32-input-desktop/input-desktop-follower.ts);
 * its only one, the clipboard owner, lives for one write (src/helper/input/win32-clipboard.ts).
 */
import koffi from 'koffi';
import { gdi32 } from '../../src/native/win32/gdi32.js';
import { kernel32Desktop } from '../../src/native/win32/kernel32-desktop.js';
import type { Handle } from '../../src/native/win32/library.js';
import '../../src/native/win32/user32.js';
// Declared once per process (koffi type names are global): the helper's windows use them too.
import { WNDCLASSEXW } from '../../src/native/win32/user32-window.js';

const lib = koffi.load('user32.dll');
const u = {
  RegisterClassExW: lib.func('uint16_t __stdcall RegisterClassExW(const WNDCLASSEXW *lpwcx)'),
  UnregisterClassW: lib.func('BOOL __stdcall UnregisterClassW(LPCWSTR lpClassName, HINSTANCE hInstance)'),
  CreateWindowExW: lib.func(
    'HWND __stdcall CreateWindowExW(DWORD dwExStyle, LPCWSTR lpClassName, LPCWSTR lpWindowName, DWORD dwStyle, int X, int Y, int nWidth, int nHeight, HWND hWndParent, HANDLE hMenu, HINSTANCE hInstance, void *lpParam)',
  ),
  DestroyWindow: lib.func('BOOL __stdcall DestroyWindow(HWND hWnd)'),
  ShowWindow: lib.func('BOOL __stdcall ShowWindow(HWND hWnd, int nCmdShow)'),
  UpdateWindow: lib.func('BOOL __stdcall UpdateWindow(HWND hWnd)'),
  SetForegroundWindow: lib.func('BOOL __stdcall SetForegroundWindow(HWND hWnd)'),
  SetFocus: lib.func('HWND __stdcall SetFocus(HWND hWnd)'),
  GetWindowTextW: lib.func('int __stdcall GetWindowTextW(HWND hWnd, _Out_ uint8_t *lpString, int nMaxCount)'),
  PeekMessageW: lib.func(
    'BOOL __stdcall PeekMessageW(_Out_ MSG *lpMsg, HWND hWnd, UINT min, UINT max, UINT remove)',
  ),
  TranslateMessage: lib.func('BOOL __stdcall TranslateMessage(const MSG *lpMsg)'),
  DispatchMessageW: lib.func('LRESULT __stdcall DispatchMessageW(const MSG *lpMsg)'),
};

const WS_POPUP = 0x8000_0000;
const WS_VISIBLE = 0x1000_0000;
const WS_CHILD = 0x4000_0000;
const SW_SHOW = 5;
const PM_REMOVE = 1;

/** Runs the thread's message queue for `ms`, so Wine paints and delivers input. */
export async function pumpMessages(ms: number): Promise<void> {
  const end = Date.now() + ms;
  const msg = {};
  do {
    while (u.PeekMessageW(msg, null, 0, 0, PM_REMOVE)) {
      u.TranslateMessage(msg);
      u.DispatchMessageW(msg);
    }
    await new Promise((r) => setTimeout(r, 10));
  } while (Date.now() < end);
}

export interface TestWindow {
  hwnd: Handle;
  close(): void;
}

let classCount = 0;

/** A borderless popup filled by its class brush with `rgb` (0xRRGGBB). */
export function solidWindow(x: number, y: number, w: number, h: number, rgb: number): TestWindow {
  const k = kernel32Desktop();
  const instance: Handle = k.GetModuleHandleW(null);
  const defProc: unknown = k.GetProcAddress(k.GetModuleHandleW('user32.dll'), 'DefWindowProcW');
  const colorref = ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
  const brush: Handle = gdi32().CreateSolidBrush(colorref);
  const className = `porthole-solid-${process.pid}-${++classCount}`;
  const atom = u.RegisterClassExW({
    cbSize: koffi.sizeof(WNDCLASSEXW),
    style: 0,
    lpfnWndProc: defProc,
    cbClsExtra: 0,
    cbWndExtra: 0,
    hInstance: instance,
    hIcon: null,
    hCursor: null,
    hbrBackground: brush,
    lpszMenuName: null,
    lpszClassName: className,
    hIconSm: null,
  });
  if (!atom) throw new Error('RegisterClassExW failed');
  const hwnd: Handle = u.CreateWindowExW(
    0,
    className,
    'porthole',
    WS_POPUP | WS_VISIBLE,
    x,
    y,
    w,
    h,
    null,
    null,
    instance,
    null,
  );
  if (hwnd == null) throw new Error('CreateWindowExW failed');
  u.ShowWindow(hwnd, SW_SHOW);
  u.UpdateWindow(hwnd);
  let closed = false;
  return {
    hwnd,
    close() {
      if (closed) return;
      closed = true;
      u.DestroyWindow(hwnd);
      u.UnregisterClassW(className, instance);
      gdi32().DeleteObject(brush);
    },
  };
}

/** A focused EDIT control in a popup: what SendInput types lands in its text. */
export function editWindow(x: number, y: number, w: number, h: number): TestWindow & { text(): string } {
  const instance: Handle = kernel32Desktop().GetModuleHandleW(null);
  const hwnd: Handle = u.CreateWindowExW(
    0,
    'EDIT',
    '',
    WS_POPUP | WS_VISIBLE,
    x,
    y,
    w,
    h,
    null,
    null,
    instance,
    null,
  );
  if (hwnd == null) throw new Error('CreateWindowExW(EDIT) failed');
  u.ShowWindow(hwnd, SW_SHOW);
  u.SetForegroundWindow(hwnd);
  u.SetFocus(hwnd);
  return {
    hwnd,
    text() {
      const buf = Buffer.alloc(2048);
      const n = u.GetWindowTextW(hwnd, buf, 1024) as number;
      return buf.toString('utf16le', 0, n * 2);
    },
    close() {
      u.DestroyWindow(hwnd);
    },
  };
}

export { WS_CHILD };
