/**
 * ntdll.dll: the access a handle was granted (NtQueryObject(ObjectBasicInformation), documented in
 * <winternl.h>), so the helper can say whether its input-desktop handle carries the rights SendInput
 * needs. Needs no privilege: it reads the caller's own handle table.
 */
import koffi from 'koffi';
import { lazyLibrary, type Handle } from './library.js';
import { Win32Error } from './win32-error.js';

/** OBJECT_INFORMATION_CLASS */
export const ObjectBasicInformation = 0;

export const PUBLIC_OBJECT_BASIC_INFORMATION = koffi.struct('PUBLIC_OBJECT_BASIC_INFORMATION', {
  Attributes: 'ULONG',
  GrantedAccess: 'DWORD',
  HandleCount: 'ULONG',
  PointerCount: 'ULONG',
  Reserved: koffi.array('ULONG', 10),
});

export const ntdll = lazyLibrary('ntdll.dll', (lib) => ({
  NtQueryObject: lib.func(
    'LONG __stdcall NtQueryObject(HANDLE Handle, int ObjectInformationClass, _Out_ PUBLIC_OBJECT_BASIC_INFORMATION *ObjectInformation, ULONG ObjectInformationLength, _Out_ ULONG *ReturnLength)',
  ),
  RtlNtStatusToDosError: lib.func('ULONG __stdcall RtlNtStatusToDosError(LONG Status)'),
}));

/** The access mask `handle` was opened with (after generic rights were mapped). */
export function grantedAccess(handle: Handle): number {
  const api = ntdll();
  const info = {} as { GrantedAccess: number };
  const status = api.NtQueryObject(
    handle,
    ObjectBasicInformation,
    info,
    koffi.sizeof(PUBLIC_OBJECT_BASIC_INFORMATION),
    [0],
  ) as number;
  if (status < 0)
    throw new Win32Error(
      'NtQueryObject(ObjectBasicInformation)',
      api.RtlNtStatusToDosError(status) as number,
    );
  return info.GrantedAccess >>> 0;
}
