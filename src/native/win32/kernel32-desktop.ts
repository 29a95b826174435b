/**
 * The kernel32.dll calls of the desktop side of the helper (capture, input, clipboard), kept apart from
 * kernel32.ts, which serves the service: the clipboard's global memory, the thread id, and the module
 * look-ups the tests use to build a window class.
 */
import { lazyLibrary } from './library.js';
import './user32.js'; // HINSTANCE

/** GlobalAlloc flag: movable memory, as the clipboard requires. */
export const GMEM_MOVEABLE = 0x0002;

export const kernel32Desktop = lazyLibrary('kernel32.dll', (lib) => ({
  GetCurrentThreadId: lib.func('DWORD __stdcall GetCurrentThreadId(void)'),
  GlobalAlloc: lib.func('HANDLE __stdcall GlobalAlloc(UINT uFlags, SIZE_T dwBytes)'),
  GlobalLock: lib.func('void * __stdcall GlobalLock(HANDLE hMem)'),
  GlobalUnlock: lib.func('BOOL __stdcall GlobalUnlock(HANDLE hMem)'),
  GlobalSize: lib.func('SIZE_T __stdcall GlobalSize(HANDLE hMem)'),
  GlobalFree: lib.func('HANDLE __stdcall GlobalFree(HANDLE hMem)'),
  GetModuleHandleW: lib.func('HINSTANCE __stdcall GetModuleHandleW(LPCWSTR lpModuleName)'),
  GetProcAddress: lib.func('void * __stdcall GetProcAddress(HINSTANCE hModule, const char *lpProcName)'),
}));
