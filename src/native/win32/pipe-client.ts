/**
 * The client end of a named pipe, opened by porthole itself (the helper's end of its broker pipe), and
 * what a client can learn about the process serving the pipe.
 *
 * node:net opens a pipe through libuv without a security quality of service, so the server may
 * impersonate the client at SecurityImpersonation (the default): a helper running as SYSTEM would hand
 * SYSTEM to whatever process created a pipe of that name first. Opened with SECURITY_SQOS_PRESENT |
 * SECURITY_IDENTIFICATION, the server can identify the client but not act as it (CreateFileW,
 * dwFlagsAndAttributes; "Impersonation Levels"). Wine ignores the flags (a server impersonating the
 * client gets SecurityImpersonation whatever was asked): the level is a step of the VM script.
 */
import {
  closeHandle,
  FILE_FLAG_OVERLAPPED,
  GENERIC_READ,
  GENERIC_WRITE,
  kernel32,
  OPEN_EXISTING,
} from './kernel32.js';
import { isNullOrInvalid, lazyLibrary, type Handle } from './library.js';
import { checkBool, lastError } from './last-error.js';
import { tokenUserSid } from './security.js';
import { advapi32Impersonation, advapi32Token, threadImpersonation, TOKEN_QUERY } from './token.js';

export const SECURITY_SQOS_PRESENT = 0x10_0000;
/** (SecurityIdentification << 16), as winbase.h defines it. */
export const SECURITY_IDENTIFICATION = 0x1_0000;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** Every instance of the pipe is connected to a client; a free one may come (WaitNamedPipe remarks). */
export const ERROR_PIPE_BUSY = 231;
/** OpenProcess or OpenProcessToken refused (a standard user asking about a LocalSystem process). */
export const ERROR_ACCESS_DENIED = 5;

const kernel32PipeClient = lazyLibrary('kernel32.dll', (lib) => ({
  GetNamedPipeServerProcessId: lib.func(
    'BOOL __stdcall GetNamedPipeServerProcessId(HANDLE Pipe, _Out_ ULONG *ServerProcessId)',
  ),
  OpenProcess: lib.func(
    'HANDLE __stdcall OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)',
  ),
}));

const advapi32PipeServer = lazyLibrary('advapi32.dll', (lib) => ({
  ImpersonateNamedPipeClient: lib.func('BOOL __stdcall ImpersonateNamedPipeClient(HANDLE hNamedPipe)'),
}));

/**
 * Opens `name` for overlapped reading and writing, allowing the server to identify this process but
 * not to impersonate it. Throws the Win32Error of CreateFileW (ERROR_FILE_NOT_FOUND: no such pipe yet;
 * ERROR_PIPE_BUSY: its one instance is taken). The caller owns the handle.
 */
export function openPipeClient(name: string): Handle {
  const h: Handle = kernel32().CreateFileW(
    name,
    GENERIC_READ | GENERIC_WRITE,
    0,
    null,
    OPEN_EXISTING,
    FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
    null,
  );
  if (isNullOrInvalid(h)) throw lastError('CreateFileW(pipe client)', name);
  return h;
}

/** The pid of the process that created the pipe instance this client handle is connected to. */
export function pipeServerProcessId(client: Handle): number {
  const out = [0];
  checkBool('GetNamedPipeServerProcessId', kernel32PipeClient().GetNamedPipeServerProcessId(client, out));
  return out[0] as number;
}

/**
 * The SID string of the user a process runs as. Needs PROCESS_QUERY_LIMITED_INFORMATION on the process
 * and TOKEN_QUERY on its token: a standard user is refused both for a LocalSystem process (its DACL
 * grants standard users nothing), so this throws ERROR_ACCESS_DENIED there.
 */
export function processUserSid(pid: number): string {
  const process: Handle = kernel32PipeClient().OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (isNullOrInvalid(process))
    throw lastError('OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION)', `pid ${pid}`);
  try {
    const token: unknown[] = [null];
    checkBool('OpenProcessToken(TOKEN_QUERY)', advapi32Token().OpenProcessToken(process, TOKEN_QUERY, token));
    try {
      return tokenUserSid(token[0]);
    } finally {
      closeHandle(token[0]);
    }
  } finally {
    closeHandle(process);
  }
}

/**
 * Server side, for tests and the VM script: the impersonation level the connected client allows, read
 * by impersonating it for the length of one OpenThreadToken (SecurityIdentification = 1 for a client
 * opened by `openPipeClient`, SecurityImpersonation = 2 for node:net's). The server must have read
 * from the pipe first: the function takes "the security context of the last message read from the
 * pipe" (ImpersonateNamedPipeClient remarks).
 */
export function pipeClientImpersonationLevel(server: Handle): number {
  checkBool('ImpersonateNamedPipeClient', advapi32PipeServer().ImpersonateNamedPipeClient(server));
  try {
    const token = threadImpersonation();
    if (!token) throw new Error('ImpersonateNamedPipeClient left the thread without a token');
    return token.level;
  } finally {
    checkBool('RevertToSelf', advapi32Impersonation().RevertToSelf());
  }
}
