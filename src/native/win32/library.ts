/**
 * What every Win32 module shares: the base type names of the Windows headers (declared once, so the
 * prototypes in each module read like the C ones) and lazy loading of a DLL, so that importing a
 * module on Linux (type checks, the factories) never touches a DLL.
 *
 * Every type is sized for 64-bit Windows (LLP64): `long` is 32 bits there, so no declaration here uses
 * koffi's `long`; LONG and ULONG are fixed-width aliases. test/win32/abi.test.ts compares the layouts
 * with the Windows headers of mingw-w64.
 */
import koffi, { type LibraryHandle } from 'koffi';

/** A kernel object handle (HANDLE, HWND-like values are never used here). Opaque outside koffi. */
export type Handle = unknown;

export const HANDLE = koffi.pointer('HANDLE', koffi.opaque('HANDLE_OBJECT'));
koffi.alias('BOOL', 'int32_t');
koffi.alias('BYTE', 'uint8_t');
koffi.alias('WORD', 'uint16_t');
koffi.alias('DWORD', 'uint32_t');
koffi.alias('UINT', 'uint32_t');
koffi.alias('LONG', 'int32_t');
koffi.alias('ULONG', 'uint32_t');
koffi.alias('ULONG_PTR', 'uint64_t');
koffi.alias('SIZE_T', 'uint64_t');
koffi.alias('LARGE_INTEGER', 'int64_t');
koffi.alias('HRESULT', 'int32_t');
/** An input wide string: koffi converts a JS string to NUL-terminated UTF-16. */
koffi.alias('LPCWSTR', 'const char16_t *');
/** A wide-string pointer inside a struct or written by Windows: decoded with `readWideString`. */
koffi.alias('LPWSTR', 'void *');
koffi.alias('LPVOID', 'void *');

export const LUID = koffi.struct('LUID', { LowPart: 'DWORD', HighPart: 'LONG' });

/** INVALID_HANDLE_VALUE, as the address koffi reports for it. */
export const INVALID_HANDLE_ADDRESS = 0xffff_ffff_ffff_ffffn;

/** True for NULL and INVALID_HANDLE_VALUE, the two ways Win32 returns "no handle". */
export function isNullOrInvalid(h: Handle): boolean {
  if (h === null || h === undefined) return true;
  const a = koffi.address(h);
  return a === 0n || a === INVALID_HANDLE_ADDRESS;
}

/** A NUL-terminated UTF-16 string at `ptr` (a Windows-allocated buffer), '' for NULL. */
export function readWideString(ptr: unknown): string {
  if (ptr === null || ptr === undefined || koffi.address(ptr) === 0n) return '';
  return koffi.decode(ptr, 'char16_t', -1) as string;
}

/** Loads `dll` and declares its functions on first use; throws on anything but Windows. */
export function lazyLibrary<T>(dll: string, declare: (lib: LibraryHandle) => T): () => T {
  let fns: T | undefined;
  return () => {
    if (process.platform !== 'win32') throw new Error(`${dll} exists only on Windows`);
    fns ??= declare(koffi.load(dll));
    return fns;
  };
}
