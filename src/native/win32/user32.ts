/**
 * user32.dll: monitors, the cursor, SendInput, the input desktop, DPI awareness and the clipboard, for
 * the helper inside a user session. Prototypes are those of <winuser.h>; the structs sit next to them.
 * None of these calls needs a privilege: they act on the calling thread's desktop, which is why the
 * helper switches its thread to the input desktop first (src/helper/win32-input-desktop).
 */
import koffi from 'koffi';
import { POINT } from './capture-structs.js';
import { INPUT } from './input-structs.js';
import { GENERIC_WRITE } from './kernel32.js';
import { lazyLibrary, type Handle } from './library.js';

// Every kind of handle user32/gdi32 hand out is an opaque pointer; the names only make prototypes read
// like the header.
for (const name of ['HWND', 'HDC', 'HMONITOR', 'HCURSOR', 'HICON', 'HBITMAP', 'HGDIOBJ', 'HBRUSH', 'HDESK']) {
  koffi.alias(name, 'HANDLE');
}
koffi.alias('HINSTANCE', 'HANDLE');
koffi.alias('WPARAM', 'uint64_t');
koffi.alias('LPARAM', 'int64_t');
koffi.alias('LRESULT', 'int64_t');

export const RECT = koffi.struct('RECT', { left: 'LONG', top: 'LONG', right: 'LONG', bottom: 'LONG' });

export interface RectFields {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export const MONITORINFOEXW = koffi.struct('MONITORINFOEXW', {
  cbSize: 'DWORD',
  rcMonitor: RECT,
  rcWork: RECT,
  dwFlags: 'DWORD',
  szDevice: koffi.array('char16_t', 32, 'String'),
});
export const MONITORINFOF_PRIMARY = 1;

export const CURSORINFO = koffi.struct('CURSORINFO', {
  cbSize: 'DWORD',
  flags: 'DWORD',
  hCursor: 'HCURSOR',
  ptScreenPos: POINT,
});
export const CURSOR_SHOWING = 1;

export const ICONINFO = koffi.struct('ICONINFO', {
  fIcon: 'BOOL',
  xHotspot: 'DWORD',
  yHotspot: 'DWORD',
  hbmMask: 'HBITMAP',
  hbmColor: 'HBITMAP',
});

/** BOOL CALLBACK MonitorEnumProc(HMONITOR, HDC, LPRECT, LPARAM) */
export const MonitorEnumProc = koffi.proto(
  'BOOL __stdcall PortholeMonitorEnumProc(HMONITOR hMonitor, HDC hdc, RECT *lprcMonitor, LPARAM dwData)',
);

/** GetSystemMetrics indices. */
export const SM = {
  CXSCREEN: 0,
  CYSCREEN: 1,
  XVIRTUALSCREEN: 76,
  YVIRTUALSCREEN: 77,
  CXVIRTUALSCREEN: 78,
  CYVIRTUALSCREEN: 79,
  CMONITORS: 80,
} as const;

/** GetUserObjectInformationW index for the object's name. */
export const UOI_NAME = 2;
/** Desktop access rights (winuser.h; "Desktop Security and Access Rights"). */
export const DESKTOP_READOBJECTS = 0x0001;
export const DESKTOP_CREATEWINDOW = 0x0002;
export const DESKTOP_CREATEMENU = 0x0004;
export const DESKTOP_HOOKCONTROL = 0x0008;
export const DESKTOP_JOURNALRECORD = 0x0010;
export const DESKTOP_JOURNALPLAYBACK = 0x0020;
export const DESKTOP_ENUMERATE = 0x0040;
export const DESKTOP_WRITEOBJECTS = 0x0080;
export const DESKTOP_SWITCHDESKTOP = 0x0100;

/**
 * The access the helper opens the input desktop with, the mask TigerVNC and RustDesk use, with
 * DESKTOP_JOURNALPLAYBACK named although GENERIC_WRITE maps to it: SetThreadDesktop makes "all
 * subsequent operations on the desktop use the access rights granted" through this handle, and
 * Windows refuses SendInput (0, ERROR_ACCESS_DENIED) from a thread whose desktop handle lacks
 * JOURNALPLAYBACK. Wine checks none of this (design/WINDOWS.md); the follower logs the granted access.
 * Sunshine asks for GENERIC_ALL, which also adds DELETE, WRITE_DAC and WRITE_OWNER: not needed here.
 */
export const INPUT_DESKTOP_ACCESS =
  DESKTOP_READOBJECTS |
  DESKTOP_CREATEWINDOW |
  DESKTOP_CREATEMENU |
  DESKTOP_HOOKCONTROL |
  DESKTOP_ENUMERATE |
  DESKTOP_WRITEOBJECTS |
  DESKTOP_SWITCHDESKTOP |
  DESKTOP_JOURNALPLAYBACK |
  GENERIC_WRITE;

export const CF_UNICODETEXT = 13;
/** MapVirtualKeyW: scancode (0xE0xx for extended keys) → virtual key, left/right kept apart. */
export const MAPVK_VSC_TO_VK_EX = 3;

/** DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2: the pseudo-handle ((DPI_AWARENESS_CONTEXT)-4). */
export const DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 = -4n;
/** DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE ((DPI_AWARENESS_CONTEXT)-3). */
export const DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE = -3n;

export const user32 = lazyLibrary('user32.dll', (lib) => ({
  EnumDisplayMonitors: lib.func(
    'BOOL __stdcall EnumDisplayMonitors(HDC hdc, const RECT *lprcClip, PortholeMonitorEnumProc *lpfnEnum, LPARAM dwData)',
  ),
  GetMonitorInfoW: lib.func(
    'BOOL __stdcall GetMonitorInfoW(HMONITOR hMonitor, _Inout_ MONITORINFOEXW *lpmi)',
  ),
  GetSystemMetrics: lib.func('int __stdcall GetSystemMetrics(int nIndex)'),
  GetDC: lib.func('HDC __stdcall GetDC(HWND hWnd)'),
  ReleaseDC: lib.func('int __stdcall ReleaseDC(HWND hWnd, HDC hDC)'),
  GetCursorInfo: lib.func('BOOL __stdcall GetCursorInfo(_Inout_ CURSORINFO *pci)'),
  GetIconInfo: lib.func('BOOL __stdcall GetIconInfo(HICON hIcon, _Out_ ICONINFO *piconinfo)'),
  GetCursorPos: lib.func('BOOL __stdcall GetCursorPos(_Out_ POINT *lpPoint)'),
  SetCursorPos: lib.func('BOOL __stdcall SetCursorPos(int X, int Y)'),
  MapVirtualKeyW: lib.func('UINT __stdcall MapVirtualKeyW(UINT uCode, UINT uMapType)'),
  SendInput: lib.func('UINT __stdcall SendInput(UINT cInputs, INPUT *pInputs, int cbSize)'),
  /** Physical keyboard and mouse kept from applications; only the calling thread may still SendInput. */
  BlockInput: lib.func('BOOL __stdcall BlockInput(BOOL fBlockIt)'),
  OpenInputDesktop: lib.func(
    'HDESK __stdcall OpenInputDesktop(DWORD dwFlags, BOOL fInherit, DWORD dwDesiredAccess)',
  ),
  GetThreadDesktop: lib.func('HDESK __stdcall GetThreadDesktop(DWORD dwThreadId)'),
  SetThreadDesktop: lib.func('BOOL __stdcall SetThreadDesktop(HDESK hDesktop)'),
  CloseDesktop: lib.func('BOOL __stdcall CloseDesktop(HDESK hDesktop)'),
  GetUserObjectInformationW: lib.func(
    'BOOL __stdcall GetUserObjectInformationW(HANDLE hObj, int nIndex, _Out_ void *pvInfo, DWORD nLength, _Out_ DWORD *lpnLengthNeeded)',
  ),
  SetProcessDpiAwarenessContext: lib.func('BOOL __stdcall SetProcessDpiAwarenessContext(intptr_t value)'),
  SetProcessDPIAware: lib.func('BOOL __stdcall SetProcessDPIAware()'),
  OpenClipboard: lib.func('BOOL __stdcall OpenClipboard(HWND hWndNewOwner)'),
  CloseClipboard: lib.func('BOOL __stdcall CloseClipboard()'),
  EmptyClipboard: lib.func('BOOL __stdcall EmptyClipboard()'),
  GetClipboardData: lib.func('HANDLE __stdcall GetClipboardData(UINT uFormat)'),
  SetClipboardData: lib.func('HANDLE __stdcall SetClipboardData(UINT uFormat, HANDLE hMem)'),
  IsClipboardFormatAvailable: lib.func('BOOL __stdcall IsClipboardFormatAvailable(UINT format)'),
  GetClipboardSequenceNumber: lib.func('DWORD __stdcall GetClipboardSequenceNumber()'),
}));

export type { Handle };
export { INPUT };
