/**
 * user32.dll's window calls, kept apart from user32.ts. The helper itself makes one kind of window, the
 * clipboard's owner, a message-only window (parent HWND_MESSAGE: invisible, not enumerated, no
 * broadcasts) that exists only while the clipboard is written (src/helper/input/win32-clipboard.ts
 * says why). The being-viewed indicator is a visible topmost window, made in a child process of the
 * helper (src/helper/presence/win32-indicator-window.ts) with the calls of `user32Indicator`. The test
 * windows of test/win32 use the same WNDCLASSEXW and MSG.
 */
import koffi from 'koffi';
import { lastError } from './last-error.js';
import { lazyLibrary, type Handle } from './library.js';
import './user32.js'; // HWND, HINSTANCE, HICON, HCURSOR, HBRUSH, WPARAM, LPARAM, LRESULT
import { POINT } from './capture-structs.js';

export const WNDCLASSEXW = koffi.struct('WNDCLASSEXW', {
  cbSize: 'UINT',
  style: 'UINT',
  lpfnWndProc: 'void *',
  cbClsExtra: 'int',
  cbWndExtra: 'int',
  hInstance: 'HINSTANCE',
  hIcon: 'HICON',
  hCursor: 'HCURSOR',
  hbrBackground: 'HBRUSH',
  lpszMenuName: 'LPCWSTR',
  lpszClassName: 'LPCWSTR',
  hIconSm: 'HICON',
});

export interface WndClassExFields {
  cbSize: number;
  style: number;
  lpfnWndProc: unknown;
  cbClsExtra: number;
  cbWndExtra: number;
  hInstance: unknown;
  hIcon: unknown;
  hCursor: unknown;
  hbrBackground: unknown;
  lpszMenuName: string | null;
  lpszClassName: string;
  hIconSm: unknown;
}

export const MSG = koffi.struct('MSG', {
  hwnd: 'HWND',
  message: 'UINT',
  wParam: 'WPARAM',
  lParam: 'LPARAM',
  time: 'DWORD',
  pt: POINT,
});

/** `LRESULT CALLBACK WindowProc(HWND, UINT, WPARAM, LPARAM)`. */
export const WNDPROC = koffi.proto(
  'LRESULT __stdcall WNDPROC(HWND hwnd, UINT uMsg, WPARAM wParam, LPARAM lParam)',
);

/** The parent that makes a window message-only: ((HWND)-3). */
export const HWND_MESSAGE = -3;
/** RegisterClassExW's error when this process registered the class already. */
export const ERROR_CLASS_ALREADY_EXISTS = 1410;

export const user32Window = lazyLibrary('user32.dll', (lib) => ({
  RegisterClassExW: lib.func('WORD __stdcall RegisterClassExW(const WNDCLASSEXW *lpwcx)'),
  CreateWindowExW: lib.func(
    'HWND __stdcall CreateWindowExW(DWORD dwExStyle, LPCWSTR lpClassName, LPCWSTR lpWindowName, DWORD dwStyle, int X, int Y, int nWidth, int nHeight, HWND hWndParent, HANDLE hMenu, HINSTANCE hInstance, void *lpParam)',
  ),
  DestroyWindow: lib.func('BOOL __stdcall DestroyWindow(HWND hWnd)'),
  GetClipboardOwner: lib.func('HWND __stdcall GetClipboardOwner()'),
}));

/**
 * Registers a window class of this process with no icon, cursor or menu; a class this process
 * registered before is fine (ERROR_CLASS_ALREADY_EXISTS), any other failure throws.
 */
export function registerWindowClass(
  className: string,
  wndProc: unknown,
  instance: Handle,
  background: Handle | null,
): void {
  const atom = user32Window().RegisterClassExW({
    cbSize: koffi.sizeof(WNDCLASSEXW),
    style: 0,
    lpfnWndProc: wndProc,
    cbClsExtra: 0,
    cbWndExtra: 0,
    hInstance: instance,
    hIcon: null,
    hCursor: null,
    hbrBackground: background,
    lpszMenuName: null,
    lpszClassName: className,
    hIconSm: null,
  }) as number;
  if (!atom) {
    const err = lastError('RegisterClassExW', className);
    if (err.win32Code !== ERROR_CLASS_ALREADY_EXISTS) throw err;
  }
}

// The indicator's window (winuser.h).
export const WS_POPUP = 0x8000_0000;
export const WS_CHILD = 0x4000_0000;
export const WS_VISIBLE = 0x1000_0000;
export const WS_BORDER = 0x0080_0000;
export const WS_EX_TOPMOST = 0x0000_0008;
export const WS_EX_TOOLWINDOW = 0x0000_0080;
export const WS_EX_LAYERED = 0x0008_0000;
/** Clicking it does not take the focus from the user's window. */
export const WS_EX_NOACTIVATE = 0x0800_0000;
export const BS_PUSHBUTTON = 0x0000_0000;
// The chat window: a captioned topmost tool window with a read-only log, an entry line and Send.
export const WS_CAPTION = 0x00c0_0000;
export const WS_SYSMENU = 0x0008_0000;
export const WS_VSCROLL = 0x0020_0000;
export const WS_TABSTOP = 0x0001_0000;
export const ES_MULTILINE = 0x0004;
export const ES_AUTOVSCROLL = 0x0040;
export const ES_AUTOHSCROLL = 0x0080;
export const ES_READONLY = 0x0800;
/** Enter in the entry line presses it (IsDialogMessageW sends its id, IDOK). */
export const BS_DEFPUSHBUTTON = 0x0000_0001;
export const EM_SETSEL = 0x00b1;
export const EM_REPLACESEL = 0x00c2;
export const EM_LIMITTEXT = 0x00c5;
export const SW_SHOW = 5;
export const SS_LEFT = 0x0000_0000;
export const SS_CENTERIMAGE = 0x0000_0200;
export const WM_DESTROY = 0x0002;
export const WM_CLOSE = 0x0010;
export const WM_COMMAND = 0x0111;
/** Sent by a STATIC child before it paints: the parent may set the DC's colours and return a brush. */
export const WM_CTLCOLORSTATIC = 0x0138;
export const BN_CLICKED = 0;
export const PM_REMOVE = 0x0001;
export const SW_SHOWNOACTIVATE = 4;
export const SWP_NOSIZE = 0x0001;
export const SWP_NOMOVE = 0x0002;
export const SWP_NOACTIVATE = 0x0010;
/** ((HWND)-1): above every window that is not topmost. */
export const HWND_TOPMOST = -1;
export const LWA_ALPHA = 0x0000_0002;
/** SetWindowDisplayAffinity: shown normally, captured normally. */
export const WDA_NONE = 0x0000_0000;
/** Shown on the monitor only; a capture gets black in its place (Windows 7 and later). */
export const WDA_MONITOR = 0x0000_0001;
/** Shown on the monitor only; a capture gets what is behind it (Windows 10 2004 and later). */
export const WDA_EXCLUDEFROMCAPTURE = 0x0000_0011;

export const user32Indicator = lazyLibrary('user32.dll', (lib) => ({
  DefWindowProcW: lib.func(
    'LRESULT __stdcall DefWindowProcW(HWND hWnd, UINT Msg, WPARAM wParam, LPARAM lParam)',
  ),
  ShowWindow: lib.func('BOOL __stdcall ShowWindow(HWND hWnd, int nCmdShow)'),
  SetWindowPos: lib.func(
    'BOOL __stdcall SetWindowPos(HWND hWnd, HWND hWndInsertAfter, int X, int Y, int cx, int cy, UINT uFlags)',
  ),
  SetWindowTextW: lib.func('BOOL __stdcall SetWindowTextW(HWND hWnd, LPCWSTR lpString)'),
  SetLayeredWindowAttributes: lib.func(
    'BOOL __stdcall SetLayeredWindowAttributes(HWND hwnd, DWORD crKey, uint8_t bAlpha, DWORD dwFlags)',
  ),
  SetWindowDisplayAffinity: lib.func('BOOL __stdcall SetWindowDisplayAffinity(HWND hWnd, DWORD dwAffinity)'),
  GetWindowDisplayAffinity: lib.func(
    'BOOL __stdcall GetWindowDisplayAffinity(HWND hWnd, _Out_ DWORD *pdwAffinity)',
  ),
  GetSystemMetrics: lib.func('int __stdcall GetSystemMetrics(int nIndex)'),
  SendMessageW: lib.func('LRESULT __stdcall SendMessageW(HWND hWnd, UINT Msg, WPARAM wParam, LPARAM lParam)'),
  /** SendMessageW for the messages whose LPARAM is a string (EM_REPLACESEL). */
  SendMessageTextW: lib.func(
    'LRESULT __stdcall SendMessageW(HWND hWnd, UINT Msg, WPARAM wParam, LPCWSTR lParam)',
  ),
  GetWindowTextW: lib.func('int __stdcall GetWindowTextW(HWND hWnd, _Out_ uint8_t *lpString, int nMaxCount)'),
  SetForegroundWindow: lib.func('BOOL __stdcall SetForegroundWindow(HWND hWnd)'),
  SetFocus: lib.func('HWND __stdcall SetFocus(HWND hWnd)'),
  IsDialogMessageW: lib.func('BOOL __stdcall IsDialogMessageW(HWND hDlg, MSG *lpMsg)'),
  PeekMessageW: lib.func(
    'BOOL __stdcall PeekMessageW(_Out_ MSG *lpMsg, HWND hWnd, UINT wMsgFilterMin, UINT wMsgFilterMax, UINT wRemoveMsg)',
  ),
  TranslateMessage: lib.func('BOOL __stdcall TranslateMessage(const MSG *lpMsg)'),
  DispatchMessageW: lib.func('LRESULT __stdcall DispatchMessageW(const MSG *lpMsg)'),
}));
