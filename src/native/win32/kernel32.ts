/**
 * kernel32.dll: handles, processes, pipes, events, job objects and console-session ids. Prototypes
 * are those of <windows.h>; the structs the calls take sit next to them.
 */
import koffi from 'koffi';
import { isNullOrInvalid, lazyLibrary, type Handle } from './library.js';
import { checkBool, lastError } from './last-error.js';

export const SECURITY_ATTRIBUTES = koffi.struct('SECURITY_ATTRIBUTES', {
  nLength: 'DWORD',
  lpSecurityDescriptor: 'LPVOID',
  bInheritHandle: 'BOOL',
});

export const STARTUPINFOW = koffi.struct('STARTUPINFOW', {
  cb: 'DWORD',
  lpReserved: 'LPWSTR',
  lpDesktop: 'LPCWSTR',
  lpTitle: 'LPWSTR',
  dwX: 'DWORD',
  dwY: 'DWORD',
  dwXSize: 'DWORD',
  dwYSize: 'DWORD',
  dwXCountChars: 'DWORD',
  dwYCountChars: 'DWORD',
  dwFillAttribute: 'DWORD',
  dwFlags: 'DWORD',
  wShowWindow: 'WORD',
  cbReserved2: 'WORD',
  lpReserved2: 'LPVOID',
  hStdInput: 'HANDLE',
  hStdOutput: 'HANDLE',
  hStdError: 'HANDLE',
});

export const PROCESS_INFORMATION = koffi.struct('PROCESS_INFORMATION', {
  hProcess: 'HANDLE',
  hThread: 'HANDLE',
  dwProcessId: 'DWORD',
  dwThreadId: 'DWORD',
});

/** Declared field by field (Internal, InternalHigh, Offset, OffsetHigh, hEvent); only hEvent is set. */
export const OVERLAPPED = koffi.struct('OVERLAPPED', {
  Internal: 'ULONG_PTR',
  InternalHigh: 'ULONG_PTR',
  Offset: 'DWORD',
  OffsetHigh: 'DWORD',
  hEvent: 'HANDLE',
});

export const JOBOBJECT_BASIC_LIMIT_INFORMATION = koffi.struct('JOBOBJECT_BASIC_LIMIT_INFORMATION', {
  PerProcessUserTimeLimit: 'LARGE_INTEGER',
  PerJobUserTimeLimit: 'LARGE_INTEGER',
  LimitFlags: 'DWORD',
  MinimumWorkingSetSize: 'SIZE_T',
  MaximumWorkingSetSize: 'SIZE_T',
  ActiveProcessLimit: 'DWORD',
  Affinity: 'ULONG_PTR',
  PriorityClass: 'DWORD',
  SchedulingClass: 'DWORD',
});

export const IO_COUNTERS = koffi.struct('IO_COUNTERS', {
  ReadOperationCount: 'uint64_t',
  WriteOperationCount: 'uint64_t',
  OtherOperationCount: 'uint64_t',
  ReadTransferCount: 'uint64_t',
  WriteTransferCount: 'uint64_t',
  OtherTransferCount: 'uint64_t',
});

export const JOBOBJECT_EXTENDED_LIMIT_INFORMATION = koffi.struct('JOBOBJECT_EXTENDED_LIMIT_INFORMATION', {
  BasicLimitInformation: JOBOBJECT_BASIC_LIMIT_INFORMATION,
  IoInfo: IO_COUNTERS,
  ProcessMemoryLimit: 'SIZE_T',
  JobMemoryLimit: 'SIZE_T',
  PeakProcessMemoryUsed: 'SIZE_T',
  PeakJobMemoryUsed: 'SIZE_T',
});

/** Filled by QueryInformationJobObject(JobObjectBasicProcessIdList); ANYSIZE_ARRAY (1) ids declared. */
export const JOBOBJECT_BASIC_PROCESS_ID_LIST = koffi.struct('JOBOBJECT_BASIC_PROCESS_ID_LIST', {
  NumberOfAssignedProcesses: 'DWORD',
  NumberOfProcessIdsInList: 'DWORD',
  ProcessIdList: koffi.array('ULONG_PTR', 1),
});

export const HANDLE_FLAG_INHERIT = 0x1;
export const INFINITE = 0xffff_ffff;
export const WAIT_OBJECT_0 = 0;
export const WAIT_TIMEOUT = 258;
export const WAIT_FAILED = 0xffff_ffff;
export const MAXIMUM_WAIT_OBJECTS = 64;
export const STILL_ACTIVE = 259;
export const JobObjectBasicProcessIdList = 3;
export const JobObjectExtendedLimitInformation = 9;
export const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;
export const GENERIC_READ = 0x8000_0000;
export const GENERIC_WRITE = 0x4000_0000;
export const FILE_SHARE_READ = 0x1;
export const FILE_SHARE_WRITE = 0x2;
export const OPEN_EXISTING = 3;
export const OPEN_ALWAYS = 4;
export const FILE_APPEND_DATA = 0x4;
export const FILE_ATTRIBUTE_NORMAL = 0x80;
export const PIPE_ACCESS_DUPLEX = 0x3;
export const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x0008_0000;
export const FILE_FLAG_OVERLAPPED = 0x4000_0000;
export const PIPE_TYPE_BYTE = 0x0;
export const PIPE_READMODE_BYTE = 0x0;
export const PIPE_WAIT = 0x0;
export const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
export const ERROR_BROKEN_PIPE = 109;
export const ERROR_PIPE_CONNECTED = 535;
export const ERROR_OPERATION_ABORTED = 995;
export const ERROR_IO_PENDING = 997;
export const ERROR_MORE_DATA = 234;
export const ERROR_NO_DATA = 232;
export const ERROR_PIPE_NOT_CONNECTED = 233;
export const ERROR_IO_INCOMPLETE = 996;
/** OVERLAPPED.Internal while the operation is in progress (what HasOverlappedIoCompleted tests). */
export const STATUS_PENDING = 0x103;

export const kernel32 = lazyLibrary('kernel32.dll', (lib) => ({
  GetLastError: lib.func('DWORD __stdcall GetLastError(void)'),
  CloseHandle: lib.func('BOOL __stdcall CloseHandle(HANDLE hObject)'),
  GetCurrentProcess: lib.func('HANDLE __stdcall GetCurrentProcess(void)'),
  GetCurrentProcessId: lib.func('DWORD __stdcall GetCurrentProcessId(void)'),
  ProcessIdToSessionId: lib.func(
    'BOOL __stdcall ProcessIdToSessionId(DWORD dwProcessId, _Out_ DWORD *pSessionId)',
  ),
  WTSGetActiveConsoleSessionId: lib.func('DWORD __stdcall WTSGetActiveConsoleSessionId(void)'),
  CreatePipe: lib.func(
    'BOOL __stdcall CreatePipe(_Out_ HANDLE *hReadPipe, _Out_ HANDLE *hWritePipe, SECURITY_ATTRIBUTES *lpPipeAttributes, DWORD nSize)',
  ),
  SetHandleInformation: lib.func(
    'BOOL __stdcall SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags)',
  ),
  CreateFileW: lib.func(
    'HANDLE __stdcall CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode, SECURITY_ATTRIBUTES *lpSecurityAttributes, DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)',
  ),
  // lpOverlapped is `void *` so that callers pass a Buffer that outlives the operation.
  ReadFile: lib.func(
    'BOOL __stdcall ReadFile(HANDLE hFile, void *lpBuffer, DWORD nNumberOfBytesToRead, _Out_ DWORD *lpNumberOfBytesRead, void *lpOverlapped)',
  ),
  WriteFile: lib.func(
    'BOOL __stdcall WriteFile(HANDLE hFile, const void *lpBuffer, DWORD nNumberOfBytesToWrite, _Out_ DWORD *lpNumberOfBytesWritten, void *lpOverlapped)',
  ),
  GetOverlappedResult: lib.func(
    'BOOL __stdcall GetOverlappedResult(HANDLE hFile, void *lpOverlapped, _Out_ DWORD *lpNumberOfBytesTransferred, BOOL bWait)',
  ),
  CancelIoEx: lib.func('BOOL __stdcall CancelIoEx(HANDLE hFile, void *lpOverlapped)'),
  CreateEventW: lib.func(
    'HANDLE __stdcall CreateEventW(SECURITY_ATTRIBUTES *lpEventAttributes, BOOL bManualReset, BOOL bInitialState, LPCWSTR lpName)',
  ),
  SetEvent: lib.func('BOOL __stdcall SetEvent(HANDLE hEvent)'),
  ResetEvent: lib.func('BOOL __stdcall ResetEvent(HANDLE hEvent)'),
  WaitForSingleObject: lib.func('DWORD __stdcall WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)'),
  WaitForMultipleObjects: lib.func(
    'DWORD __stdcall WaitForMultipleObjects(DWORD nCount, HANDLE *lpHandles, BOOL bWaitAll, DWORD dwMilliseconds)',
  ),
  CreateNamedPipeW: lib.func(
    'HANDLE __stdcall CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode, DWORD nMaxInstances, DWORD nOutBufferSize, DWORD nInBufferSize, DWORD nDefaultTimeOut, SECURITY_ATTRIBUTES *lpSecurityAttributes)',
  ),
  ConnectNamedPipe: lib.func('BOOL __stdcall ConnectNamedPipe(HANDLE hNamedPipe, void *lpOverlapped)'),
  DisconnectNamedPipe: lib.func('BOOL __stdcall DisconnectNamedPipe(HANDLE hNamedPipe)'),
  GetNamedPipeClientProcessId: lib.func(
    'BOOL __stdcall GetNamedPipeClientProcessId(HANDLE Pipe, _Out_ ULONG *ClientProcessId)',
  ),
  CreateJobObjectW: lib.func(
    'HANDLE __stdcall CreateJobObjectW(SECURITY_ATTRIBUTES *lpJobAttributes, LPCWSTR lpName)',
  ),
  SetInformationJobObject: lib.func(
    'BOOL __stdcall SetInformationJobObject(HANDLE hJob, int JobObjectInformationClass, void *lpJobObjectInformation, DWORD cbJobObjectInformationLength)',
  ),
  AssignProcessToJobObject: lib.func('BOOL __stdcall AssignProcessToJobObject(HANDLE hJob, HANDLE hProcess)'),
  QueryInformationJobObject: lib.func(
    'BOOL __stdcall QueryInformationJobObject(HANDLE hJob, int JobObjectInformationClass, _Out_ void *lpJobObjectInformation, DWORD cbJobObjectInformationLength, _Out_ DWORD *lpReturnLength)',
  ),
  ResumeThread: lib.func('DWORD __stdcall ResumeThread(HANDLE hThread)'),
  TerminateProcess: lib.func('BOOL __stdcall TerminateProcess(HANDLE hProcess, UINT uExitCode)'),
  GetExitCodeProcess: lib.func('BOOL __stdcall GetExitCodeProcess(HANDLE hProcess, _Out_ DWORD *lpExitCode)'),
  LocalFree: lib.func('void * __stdcall LocalFree(void *hMem)'),
}));

/** Closes a handle; NULL and INVALID_HANDLE_VALUE are ignored so `finally` blocks stay simple. */
export function closeHandle(h: Handle): void {
  if (isNullOrInvalid(h)) return;
  checkBool('CloseHandle', kernel32().CloseHandle(h));
}

/** The WTS session a process runs in. Needs PROCESS_QUERY_LIMITED_INFORMATION on it (any pid for SYSTEM). */
export function processSessionId(pid: number): number {
  const out = [0];
  checkBool('ProcessIdToSessionId', kernel32().ProcessIdToSessionId(pid, out));
  return out[0] as number;
}

/** The session attached to the physical console; 0xFFFFFFFF while it is being switched. */
export function activeConsoleSessionId(): number {
  return kernel32().WTSGetActiveConsoleSessionId() as number;
}

/** A handle-returning call's result, or its last error as a Win32Error. */
export function checkHandle(call: string, h: Handle): Handle {
  if (isNullOrInvalid(h)) throw lastError(call);
  return h;
}

/**
 * A new job object whose processes are all killed when its last handle closes
 * (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE), e.g. when the process holding it dies. The caller owns the
 * handle. A job takes the session of the first process assigned to it and cannot hold processes of
 * another (CreateJobObject remarks): one job per helper.
 */
export function createKillOnCloseJob(): Handle {
  const job = checkHandle('CreateJobObjectW', kernel32().CreateJobObjectW(null, null));
  const limits = Buffer.alloc(koffi.sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION));
  koffi.encode(limits, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, {
    BasicLimitInformation: { LimitFlags: JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE },
  });
  if (!kernel32().SetInformationJobObject(job, JobObjectExtendedLimitInformation, limits, limits.length)) {
    const err = lastError('SetInformationJobObject(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)');
    closeHandle(job);
    throw err;
  }
  return job;
}

/**
 * Puts a process into a job. The process handle needs PROCESS_SET_QUOTA and PROCESS_TERMINATE (a
 * handle from CreateProcess has all access); start it suspended so it runs nothing outside the job.
 */
export function assignProcessToJob(job: Handle, process: Handle): void {
  checkBool('AssignProcessToJobObject', kernel32().AssignProcessToJobObject(job, process));
}

/** The ids of the processes in a job (up to `max`). Needs JOB_OBJECT_QUERY on the handle. */
export function jobProcessIds(job: Handle, max = 64): number[] {
  const header = koffi.offsetof(JOBOBJECT_BASIC_PROCESS_ID_LIST, 'ProcessIdList');
  const buf = Buffer.alloc(header + max * 8);
  checkBool(
    'QueryInformationJobObject(JobObjectBasicProcessIdList)',
    kernel32().QueryInformationJobObject(job, JobObjectBasicProcessIdList, buf, buf.length, [0]),
  );
  const n = buf.readUInt32LE(koffi.offsetof(JOBOBJECT_BASIC_PROCESS_ID_LIST, 'NumberOfProcessIdsInList'));
  return Array.from({ length: n }, (_, i) => Number(buf.readBigUInt64LE(header + i * 8)));
}
