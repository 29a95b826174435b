/**
 * advapi32.dll, access tokens: open, duplicate, move into a session, enable a privilege, start a
 * process with a token, and impersonate one on the calling thread. Which privilege each call needs is
 * stated on its wrapper.
 */
import koffi from 'koffi';
import { LUID, lazyLibrary, type Handle } from './library.js';
import { closeHandle, kernel32 } from './kernel32.js';
import { checkBool, lastError } from './last-error.js';
import { tokenUserSid } from './security.js';

export const LUID_AND_ATTRIBUTES = koffi.struct('LUID_AND_ATTRIBUTES', {
  Luid: LUID,
  Attributes: 'DWORD',
});

/** With one privilege, the only form porthole passes (ANYSIZE_ARRAY is 1 in the header). */
export const TOKEN_PRIVILEGES = koffi.struct('TOKEN_PRIVILEGES', {
  PrivilegeCount: 'DWORD',
  Privileges: koffi.array(LUID_AND_ATTRIBUTES, 1),
});

export const TOKEN_ASSIGN_PRIMARY = 0x1;
export const TOKEN_DUPLICATE = 0x2;
export const TOKEN_IMPERSONATE = 0x4;
export const TOKEN_QUERY = 0x8;
export const TOKEN_ADJUST_PRIVILEGES = 0x20;
export const TOKEN_ADJUST_DEFAULT = 0x80;
export const TOKEN_ADJUST_SESSIONID = 0x100;
export const TOKEN_ALL_ACCESS = 0xf01ff;
export const MAXIMUM_ALLOWED = 0x0200_0000;
/** SECURITY_IMPERSONATION_LEVEL */
export const SecurityIdentification = 1;
export const SecurityImpersonation = 2;
/** TOKEN_TYPE */
export const TokenPrimary = 1;
export const TokenImpersonation = 2;
/** TOKEN_INFORMATION_CLASS */
export const TokenImpersonationLevel = 9;
export const TokenSessionId = 12;
/** OpenThreadToken on a thread that is not impersonating. */
export const ERROR_NO_TOKEN = 1008;
export const SE_PRIVILEGE_ENABLED = 0x2;
/** AdjustTokenPrivileges succeeded but the token lacks a privilege it was asked to enable. */
export const ERROR_NOT_ALL_ASSIGNED = 1300;

export const CREATE_SUSPENDED = 0x4;
export const CREATE_NEW_PROCESS_GROUP = 0x200;
export const CREATE_UNICODE_ENVIRONMENT = 0x400;
export const CREATE_BREAKAWAY_FROM_JOB = 0x0100_0000;
export const CREATE_NO_WINDOW = 0x0800_0000;
export const STARTF_USESHOWWINDOW = 0x1;
export const STARTF_USESTDHANDLES = 0x100;
export const SW_HIDE = 0;

export const advapi32Token = lazyLibrary('advapi32.dll', (lib) => ({
  OpenProcessToken: lib.func(
    'BOOL __stdcall OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, _Out_ HANDLE *TokenHandle)',
  ),
  DuplicateTokenEx: lib.func(
    'BOOL __stdcall DuplicateTokenEx(HANDLE hExistingToken, DWORD dwDesiredAccess, SECURITY_ATTRIBUTES *lpTokenAttributes, int ImpersonationLevel, int TokenType, _Out_ HANDLE *phNewToken)',
  ),
  SetTokenInformation: lib.func(
    'BOOL __stdcall SetTokenInformation(HANDLE TokenHandle, int TokenInformationClass, void *TokenInformation, DWORD TokenInformationLength)',
  ),
  GetTokenInformation: lib.func(
    'BOOL __stdcall GetTokenInformation(HANDLE TokenHandle, int TokenInformationClass, _Out_ void *TokenInformation, DWORD TokenInformationLength, _Out_ DWORD *ReturnLength)',
  ),
  LookupPrivilegeValueW: lib.func(
    'BOOL __stdcall LookupPrivilegeValueW(LPCWSTR lpSystemName, LPCWSTR lpName, _Out_ LUID *lpLuid)',
  ),
  AdjustTokenPrivileges: lib.func(
    'BOOL __stdcall AdjustTokenPrivileges(HANDLE TokenHandle, BOOL DisableAllPrivileges, TOKEN_PRIVILEGES *NewState, DWORD BufferLength, void *PreviousState, void *ReturnLength)',
  ),
  CreateProcessAsUserW: lib.func(
    'BOOL __stdcall CreateProcessAsUserW(HANDLE hToken, LPCWSTR lpApplicationName, char16_t *lpCommandLine, SECURITY_ATTRIBUTES *lpProcessAttributes, SECURITY_ATTRIBUTES *lpThreadAttributes, BOOL bInheritHandles, DWORD dwCreationFlags, void *lpEnvironment, LPCWSTR lpCurrentDirectory, STARTUPINFOW *lpStartupInfo, _Out_ PROCESS_INFORMATION *lpProcessInformation)',
  ),
}));

/**
 * Impersonation on the calling thread. koffi runs every call on the JS main thread, so an impersonation
 * lasts exactly as long as the synchronous stretch between ImpersonateLoggedOnUser and RevertToSelf
 * (`whileImpersonating`); nothing else of the process can run in between.
 */
export const advapi32Impersonation = lazyLibrary('advapi32.dll', (lib) => ({
  ImpersonateLoggedOnUser: lib.func('BOOL __stdcall ImpersonateLoggedOnUser(HANDLE hToken)'),
  RevertToSelf: lib.func('BOOL __stdcall RevertToSelf(void)'),
  OpenThreadToken: lib.func(
    'BOOL __stdcall OpenThreadToken(HANDLE ThreadHandle, DWORD DesiredAccess, BOOL OpenAsSelf, _Out_ HANDLE *TokenHandle)',
  ),
}));
const kernel32Thread = lazyLibrary('kernel32.dll', (lib) => ({
  GetCurrentThread: lib.func('HANDLE __stdcall GetCurrentThread(void)'),
}));

/** This process's token, opened with `access`. The caller closes it. */
export function openProcessToken(access: number): Handle {
  const out: unknown[] = [null];
  checkBool(
    'OpenProcessToken',
    advapi32Token().OpenProcessToken(kernel32().GetCurrentProcess(), access, out),
  );
  return out[0];
}

/** A primary token copied from `token` (DuplicateTokenEx needs TOKEN_DUPLICATE on the source). */
export function duplicatePrimaryToken(token: Handle): Handle {
  const out: unknown[] = [null];
  checkBool(
    'DuplicateTokenEx',
    advapi32Token().DuplicateTokenEx(token, MAXIMUM_ALLOWED, null, SecurityImpersonation, TokenPrimary, out),
  );
  return out[0];
}

/** The SID string of the account this process runs as (`S-1-5-18` for LocalSystem). */
export function ownUserSid(): string {
  const token = openProcessToken(TOKEN_QUERY);
  try {
    return tokenUserSid(token);
  } finally {
    closeHandle(token);
  }
}

/**
 * An impersonation token (SecurityImpersonation) copied from `token`, e.g. the service's own, to be
 * moved into a session and impersonated. Needs TOKEN_DUPLICATE on the source.
 */
export function duplicateImpersonationToken(token: Handle): Handle {
  const out: unknown[] = [null];
  checkBool(
    'DuplicateTokenEx(TokenImpersonation)',
    advapi32Token().DuplicateTokenEx(
      token,
      MAXIMUM_ALLOWED,
      null,
      SecurityImpersonation,
      TokenImpersonation,
      out,
    ),
  );
  return out[0];
}

/**
 * Runs `fn` with the calling thread impersonating `token` (needs TOKEN_QUERY | TOKEN_IMPERSONATE on it)
 * and reverts before returning or throwing. A failed RevertToSelf is thrown: the thread would otherwise
 * go on with the token.
 */
export function whileImpersonating<T>(token: Handle, fn: () => T): T {
  const api = advapi32Impersonation();
  checkBool('ImpersonateLoggedOnUser', api.ImpersonateLoggedOnUser(token));
  try {
    return fn();
  } finally {
    checkBool('RevertToSelf', api.RevertToSelf());
  }
}

/**
 * The calling thread's impersonation token, read as the process (OpenAsSelf): its level and session,
 * or undefined when the thread impersonates nobody.
 */
export function threadImpersonation(): { level: number; sessionId: number } | undefined {
  const out: unknown[] = [null];
  const api = advapi32Impersonation();
  if (!api.OpenThreadToken(kernel32Thread().GetCurrentThread(), TOKEN_QUERY, 1, out)) {
    const err = lastError('OpenThreadToken');
    if (err.win32Code === ERROR_NO_TOKEN) return undefined;
    throw err;
  }
  try {
    const level = Buffer.alloc(4);
    checkBool(
      'GetTokenInformation(TokenImpersonationLevel)',
      advapi32Token().GetTokenInformation(out[0], TokenImpersonationLevel, level, 4, [0]),
    );
    return { level: level.readUInt32LE(0), sessionId: tokenSessionId(out[0]) };
  } finally {
    closeHandle(out[0]);
  }
}

/**
 * Moves a token into another session. Needs SE_TCB_NAME (LocalSystem). Wine returns success but the
 * process started with the token stays in the service's session.
 */
export function setTokenSessionId(token: Handle, sessionId: number): void {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(sessionId >>> 0);
  checkBool(
    `SetTokenInformation(TokenSessionId=${sessionId})`,
    advapi32Token().SetTokenInformation(token, TokenSessionId, value, 4),
  );
}

/** The session id a token says it belongs to. */
export function tokenSessionId(token: Handle): number {
  const value = Buffer.alloc(4);
  const len = [0];
  checkBool(
    'GetTokenInformation(TokenSessionId)',
    advapi32Token().GetTokenInformation(token, TokenSessionId, value, 4, len),
  );
  return value.readUInt32LE(0);
}

/**
 * Enables a privilege the process token holds but has disabled (e.g. SeIncreaseQuotaPrivilege for
 * CreateProcessAsUserW). AdjustTokenPrivileges succeeds even when the privilege is absent; then the
 * last error is ERROR_NOT_ALL_ASSIGNED (1300), reported as a failure here.
 */
export function enablePrivilege(name: string): void {
  const token = openProcessToken(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
  try {
    const luid = { LowPart: 0, HighPart: 0 };
    checkBool(`LookupPrivilegeValueW(${name})`, advapi32Token().LookupPrivilegeValueW(null, name, luid));
    const state = { PrivilegeCount: 1, Privileges: [{ Luid: luid, Attributes: SE_PRIVILEGE_ENABLED }] };
    const ok = advapi32Token().AdjustTokenPrivileges(token, 0, state, 0, null, null);
    const err = kernel32().GetLastError() as number;
    if (!ok || err === ERROR_NOT_ALL_ASSIGNED) throw lastError(`AdjustTokenPrivileges(${name})`);
  } finally {
    closeHandle(token);
  }
}
