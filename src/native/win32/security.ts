/**
 * advapi32.dll, security descriptors: built from SDDL for objects porthole creates (the broker pipe),
 * and read back from an object's handle so a test can see what Windows stored.
 */
import koffi from 'koffi';
import { lazyLibrary, readWideString, type Handle } from './library.js';
import { kernel32 } from './kernel32.js';
import { checkBool } from './last-error.js';
import { checkCode } from './win32-error.js';

export const SDDL_REVISION_1 = 1;
export const SE_KERNEL_OBJECT = 6;
export const OWNER_SECURITY_INFORMATION = 0x1;
export const GROUP_SECURITY_INFORMATION = 0x2;
export const DACL_SECURITY_INFORMATION = 0x4;

export const advapi32Security = lazyLibrary('advapi32.dll', (lib) => ({
  GetTokenInformation: lib.func(
    'BOOL __stdcall GetTokenInformation(HANDLE TokenHandle, int TokenInformationClass, void *TokenInformation, DWORD TokenInformationLength, _Out_ DWORD *ReturnLength)',
  ),
  ConvertSidToStringSidW: lib.func(
    'BOOL __stdcall ConvertSidToStringSidW(void *Sid, _Out_ void **StringSid)',
  ),
  ConvertStringSecurityDescriptorToSecurityDescriptorW: lib.func(
    'BOOL __stdcall ConvertStringSecurityDescriptorToSecurityDescriptorW(LPCWSTR StringSecurityDescriptor, DWORD StringSDRevision, _Out_ void **SecurityDescriptor, _Out_ ULONG *SecurityDescriptorSize)',
  ),
  ConvertSecurityDescriptorToStringSecurityDescriptorW: lib.func(
    'BOOL __stdcall ConvertSecurityDescriptorToStringSecurityDescriptorW(void *SecurityDescriptor, DWORD RequestedStringSDRevision, DWORD SecurityInformation, _Out_ void **StringSecurityDescriptor, _Out_ ULONG *StringSecurityDescriptorLen)',
  ),
  // Returns its error code instead of setting the last error.
  GetSecurityInfo: lib.func(
    'DWORD __stdcall GetSecurityInfo(HANDLE handle, int ObjectType, DWORD SecurityInfo, _Out_ void **ppsidOwner, _Out_ void **ppsidGroup, _Out_ void **ppDacl, _Out_ void **ppSacl, _Out_ void **ppSecurityDescriptor)',
  ),
}));

/**
 * A self-relative security descriptor parsed from SDDL, in LocalAlloc'ed memory: pass `pointer` to
 * Win32 and call `free()` (in a `finally`) when the object that uses it has been created.
 */
export interface SecurityDescriptor {
  pointer: unknown;
  free(): void;
}

export function securityDescriptorFromSddl(sddl: string): SecurityDescriptor {
  const out: unknown[] = [null];
  const size = [0];
  checkBool(
    'ConvertStringSecurityDescriptorToSecurityDescriptorW',
    advapi32Security().ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, out, size),
  );
  let freed = false;
  return {
    pointer: out[0],
    free: () => {
      if (freed) return;
      freed = true;
      kernel32().LocalFree(out[0]);
    },
  };
}

/** The DACL of a kernel object (a pipe, a process), as SDDL (`D:P(A;;GA;;;SY)…`). Needs READ_CONTROL. */
export function kernelObjectDaclSddl(handle: Handle): string {
  const sd: unknown[] = [null];
  checkCode(
    'GetSecurityInfo',
    advapi32Security().GetSecurityInfo(
      handle,
      SE_KERNEL_OBJECT,
      DACL_SECURITY_INFORMATION,
      null,
      null,
      [null],
      null,
      sd,
    ) as number,
  );
  try {
    const text: unknown[] = [null];
    const len = [0];
    checkBool(
      'ConvertSecurityDescriptorToStringSecurityDescriptorW',
      advapi32Security().ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd[0],
        SDDL_REVISION_1,
        DACL_SECURITY_INFORMATION,
        text,
        len,
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

/** TOKEN_INFORMATION_CLASS */
export const TokenUser = 1;

/** The SID string (`S-1-5-21-…`) of a token's user. Needs TOKEN_QUERY on the token. */
export function tokenUserSid(token: Handle): string {
  const api = advapi32Security();
  const size = [0];
  api.GetTokenInformation(token, TokenUser, null, 0, size); // fails with the size needed
  const buf = Buffer.alloc(Math.max(size[0] as number, 16));
  checkBool(
    'GetTokenInformation(TokenUser)',
    api.GetTokenInformation(token, TokenUser, buf, buf.length, size),
  );
  // TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first member is the PSID (into this buffer).
  const sid = koffi.decode(buf, 'void *');
  const text: unknown[] = [null];
  checkBool('ConvertSidToStringSidW', api.ConvertSidToStringSidW(sid, text));
  try {
    return readWideString(text[0]);
  } finally {
    kernel32().LocalFree(text[0]);
  }
}
