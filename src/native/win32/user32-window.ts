/**
 * user32.dll's window calls, kept apart from user32.ts: the helper makes one kind of window, the
 * clipboard's owner, a message-only window (parent HWND_MESSAGE: invisible, not enumerated, no
 * broadcasts) that exists only while the clipboard is written (src/helper/input/win32-clipboard.ts
 * says why). The test windows of test/win32 use the same WNDCLASSEXW.
 */
import koffi from 'koffi';
import { lazyLibrary } from './library.js';
import './user32.js'; // HWND, HINSTANCE, HICON, HCURSOR, HBRUSH

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
