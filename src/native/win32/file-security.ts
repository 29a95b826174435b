/**
 * The security of a folder by its path: created with a security descriptor from SDDL, its owner and
 * DACL read back as SDDL, its DACL replaced. For porthole's data folder (%ProgramData%\porthole), which
 * must not inherit ProgramData's entries that let every user create files and folders there
 * (service/windows/data-dir.ts).
 *
 * Wine does not keep a folder's DACL: it derives one from the Unix mode (SYSTEM, the Unix owner, and
 * Everyone for "others") and maps what is set back onto the mode, so a DACL set here does not read back
 * as set under Wine. The read-back is a step of the VM script.
 */
import koffi from 'koffi';
import { kernel32, SECURITY_ATTRIBUTES } from './kernel32.js';
import { lazyLibrary, readWideString } from './library.js';
import { checkBool, lastError } from './last-error.js';
import {
  advapi32Security,
  DACL_SECURITY_INFORMATION,
  OWNER_SECURITY_INFORMATION,
  SDDL_REVISION_1,
  securityDescriptorFromSddl,
} from './security.js';
import { checkCode } from './win32-error.js';

/** SE_OBJECT_TYPE of a file or folder. */
export const SE_FILE_OBJECT = 1;
/** With DACL_SECURITY_INFORMATION: the DACL inherits no entry from the parent (SDDL's `P`). */
export const PROTECTED_DACL_SECURITY_INFORMATION = 0x8000_0000;
/** CreateDirectoryW: the path exists already (as a folder or anything else). */
export const ERROR_ALREADY_EXISTS = 183;

const fileSecurityApi = lazyLibrary('advapi32.dll', (lib) => ({
  // Both return their error code instead of setting the last error.
  GetNamedSecurityInfoW: lib.func(
    'DWORD __stdcall GetNamedSecurityInfoW(LPCWSTR pObjectName, int ObjectType, DWORD SecurityInfo, _Out_ void **ppsidOwner, _Out_ void **ppsidGroup, _Out_ void **ppDacl, _Out_ void **ppSacl, _Out_ void **ppSecurityDescriptor)',
  ),
  // pObjectName is LPWSTR in the SDK, but the function does not write to it.
  SetNamedSecurityInfoW: lib.func(
    'DWORD __stdcall SetNamedSecurityInfoW(LPCWSTR pObjectName, int ObjectType, DWORD SecurityInfo, void *psidOwner, void *psidGroup, void *pDacl, void *pSacl)',
  ),
  GetSecurityDescriptorDacl: lib.func(
    'BOOL __stdcall GetSecurityDescriptorDacl(void *pSecurityDescriptor, _Out_ BOOL *lpbDaclPresent, _Out_ void **pDacl, _Out_ BOOL *lpbDaclDefaulted)',
  ),
}));

const kernel32Files = lazyLibrary('kernel32.dll', (lib) => ({
  CreateDirectoryW: lib.func(
    'BOOL __stdcall CreateDirectoryW(LPCWSTR lpPathName, SECURITY_ATTRIBUTES *lpSecurityAttributes)',
  ),
}));

/**
 * Creates a folder whose security descriptor is `sddl` (its parent's inheritable entries apply too
 * unless the DACL is protected, `D:P…`). False when the path exists already; nothing is changed then.
 */
export function createDirectoryWithSddl(path: string, sddl: string): boolean {
  const sd = securityDescriptorFromSddl(sddl);
  try {
    const sa = {
      nLength: koffi.sizeof(SECURITY_ATTRIBUTES),
      lpSecurityDescriptor: sd.pointer,
      bInheritHandle: 0,
    };
    if (kernel32Files().CreateDirectoryW(path, sa)) return true;
    const err = lastError('CreateDirectoryW', path);
    if (err.win32Code === ERROR_ALREADY_EXISTS) return false;
    throw err;
  } finally {
    sd.free();
  }
}

/** The owner and DACL of a file or folder as SDDL (`O:BAD:PAI(A;OICI;FA;;;SY)…`). Needs READ_CONTROL. */
export function fileSecuritySddl(path: string): string {
  const info = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
  const sd: unknown[] = [null];
  checkCode(
    `GetNamedSecurityInfoW(${path})`,
    fileSecurityApi().GetNamedSecurityInfoW(
      path,
      SE_FILE_OBJECT,
      info,
      [null],
      null,
      [null],
      null,
      sd,
    ) as number,
  );
  try {
    const text: unknown[] = [null];
    checkBool(
      'ConvertSecurityDescriptorToStringSecurityDescriptorW',
      advapi32Security().ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd[0],
        SDDL_REVISION_1,
        info,
        text,
        [0],
      ),
    );
    try {
      return readWideString(text[0]);
    } finally {
      kernel32().LocalFree(text[0]);
    }
  } finally {
    kernel32().LocalFree(sd[0]);
  }
}

/**
 * Replaces the DACL of a file or folder with the one of `sddl`, protected from inheritance; Windows
 * then applies its inheritable entries to the existing files and folders below ("Automatic Propagation
 * of Inheritable ACEs"). Needs WRITE_DAC (the owner, or an administrator, has it). A NULL DACL would
 * grant everyone everything (SetNamedSecurityInfo), so an SDDL without a DACL is refused.
 */
export function setProtectedFileDacl(path: string, sddl: string): void {
  const sd = securityDescriptorFromSddl(sddl);
  try {
    const present = [0];
    const dacl: unknown[] = [null];
    checkBool(
      'GetSecurityDescriptorDacl',
      fileSecurityApi().GetSecurityDescriptorDacl(sd.pointer, present, dacl, [0]),
    );
    if (!present[0] || dacl[0] === null || koffi.address(dacl[0]) === 0n) {
      throw new TypeError(`SDDL without a DACL: ${sddl}`);
    }
    checkCode(
      `SetNamedSecurityInfoW(${path})`,
      fileSecurityApi().SetNamedSecurityInfoW(
        path,
        SE_FILE_OBJECT,
        DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
        null,
        null,
        dacl[0],
        null,
      ) as number,
    );
  } finally {
    sd.free();
  }
}
