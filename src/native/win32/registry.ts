/**
 * advapi32.dll registry reads: one REG_DWORD by key path and value name (RegGetValueW opens, reads
 * and closes in one call, so no key handle is left to release). Reading HKLM policies needs no
 * privilege.
 */
import { lazyLibrary } from './library.js';
import { checkCode } from './win32-error.js';

/** HKEY_LOCAL_MACHINE: the predefined handle ((HKEY)(LONG)0x80000002), sign-extended on 64-bit. */
export const HKEY_LOCAL_MACHINE = -0x7fff_fffe;
export const RRF_RT_REG_DWORD = 0x10;
export const ERROR_FILE_NOT_FOUND = 2;

export const advapi32Registry = lazyLibrary('advapi32.dll', (lib) => ({
  RegGetValueW: lib.func(
    'LONG __stdcall RegGetValueW(intptr_t hkey, LPCWSTR lpSubKey, LPCWSTR lpValue, DWORD dwFlags, _Out_ DWORD *pdwType, _Out_ DWORD *pvData, _Inout_ DWORD *pcbData)',
  ),
}));

/** A REG_DWORD value, or undefined when the key or the value does not exist. */
export function readDword(root: number, subKey: string, value: string): number | undefined {
  const data = [0];
  const code = advapi32Registry().RegGetValueW(
    root,
    subKey,
    value,
    RRF_RT_REG_DWORD,
    [0],
    data,
    [4],
  ) as number;
  if (code === ERROR_FILE_NOT_FOUND) return undefined;
  checkCode(`RegGetValueW(${subKey}\\${value})`, code);
  return data[0];
}
