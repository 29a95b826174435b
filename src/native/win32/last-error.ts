/**
 * GetLastError and the checks built on it. GetLastError is declared here rather than taken from
 * kernel32.ts so that kernel32.ts (whose calls report failures through these) depends on this file,
 * not the other way round.
 */
import { lazyLibrary } from './library.js';
import { Win32Error } from './win32-error.js';

const lastErrorApi = lazyLibrary('kernel32.dll', (lib) => ({
  GetLastError: lib.func('DWORD __stdcall GetLastError(void)') as () => number,
}));

/**
 * The error for a call that just failed. Must run right after the failing call, before anything else
 * that could reset the thread's last error (koffi adds no Win32 call in between).
 */
export function lastError(call: string, detail?: string): Win32Error {
  return new Win32Error(call, lastErrorApi().GetLastError(), detail === undefined ? {} : { detail });
}

/** Throws the call's last error when a BOOL result is FALSE. */
export function checkBool(call: string, ok: number | boolean): void {
  if (!ok) throw lastError(call);
}
