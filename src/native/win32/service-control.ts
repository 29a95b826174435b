/**
 * advapi32.dll, the Service Control Manager: the service side (dispatcher, control handler, status)
 * and the installer side (create, configure, start, stop, delete). Opening the SCM with
 * SC_MANAGER_CREATE_SERVICE and changing services needs an administrator; the service-side calls need
 * only to run under the SCM.
 */
import koffi from 'koffi';
import { lazyLibrary } from './library.js';

export const SERVICE_STATUS = koffi.struct('SERVICE_STATUS', {
  dwServiceType: 'DWORD',
  dwCurrentState: 'DWORD',
  dwControlsAccepted: 'DWORD',
  dwWin32ExitCode: 'DWORD',
  dwServiceSpecificExitCode: 'DWORD',
  dwCheckPoint: 'DWORD',
  dwWaitHint: 'DWORD',
});

/** void WINAPI ServiceMain(DWORD dwNumServicesArgs, LPWSTR *lpServiceArgVectors) */
export const ServiceMainProto = koffi.proto('void __stdcall PortholeServiceMain(DWORD argc, void *argv)');
/** DWORD WINAPI HandlerEx(DWORD dwControl, DWORD dwEventType, LPVOID lpEventData, LPVOID lpContext) */
export const HandlerExProto = koffi.proto(
  'DWORD __stdcall PortholeHandlerEx(DWORD dwControl, DWORD dwEventType, void *lpEventData, void *lpContext)',
);

export const SERVICE_TABLE_ENTRYW = koffi.struct('SERVICE_TABLE_ENTRYW', {
  lpServiceName: 'LPCWSTR',
  lpServiceProc: koffi.pointer(ServiceMainProto),
});

/** What QueryServiceStatusEx(SC_STATUS_PROCESS_INFO) writes: SERVICE_STATUS plus the process id. */
export const SERVICE_STATUS_PROCESS = koffi.struct('SERVICE_STATUS_PROCESS', {
  dwServiceType: 'DWORD',
  dwCurrentState: 'DWORD',
  dwControlsAccepted: 'DWORD',
  dwWin32ExitCode: 'DWORD',
  dwServiceSpecificExitCode: 'DWORD',
  dwCheckPoint: 'DWORD',
  dwWaitHint: 'DWORD',
  dwProcessId: 'DWORD',
  dwServiceFlags: 'DWORD',
});

/** The head of QueryServiceConfigW's buffer; the strings it points at follow it in the same buffer. */
export const QUERY_SERVICE_CONFIGW = koffi.struct('QUERY_SERVICE_CONFIGW', {
  dwServiceType: 'DWORD',
  dwStartType: 'DWORD',
  dwErrorControl: 'DWORD',
  lpBinaryPathName: 'LPWSTR',
  lpLoadOrderGroup: 'LPWSTR',
  dwTagId: 'DWORD',
  lpDependencies: 'LPWSTR',
  lpServiceStartName: 'LPWSTR',
  lpDisplayName: 'LPWSTR',
});

export const SC_ACTION = koffi.struct('SC_ACTION', { Type: 'int', Delay: 'DWORD' });

export const SERVICE_FAILURE_ACTIONSW = koffi.struct('SERVICE_FAILURE_ACTIONSW', {
  dwResetPeriod: 'DWORD',
  lpRebootMsg: 'LPWSTR',
  lpCommand: 'LPWSTR',
  cActions: 'DWORD',
  lpsaActions: 'void *',
});

export const SERVICE_DESCRIPTIONW = koffi.struct('SERVICE_DESCRIPTIONW', { lpDescription: 'LPCWSTR' });

export const SERVICE_FAILURE_ACTIONS_FLAG = koffi.struct('SERVICE_FAILURE_ACTIONS_FLAG', {
  fFailureActionsOnNonCrashFailures: 'BOOL',
});

export const SERVICE_WIN32_OWN_PROCESS = 0x10;
export const SERVICE_BOOT_START = 0x0;
export const SERVICE_SYSTEM_START = 0x1;
export const SERVICE_AUTO_START = 0x2;
export const SERVICE_DEMAND_START = 0x3;
export const SERVICE_DISABLED = 0x4;
export const SERVICE_NO_CHANGE = 0xffff_ffff;
export const SERVICE_CONTINUE_PENDING = 5;
export const SERVICE_PAUSE_PENDING = 6;
export const SERVICE_PAUSED = 7;
export const SC_STATUS_PROCESS_INFO = 0;
export const SERVICE_QUERY_CONFIG = 0x1;
export const NO_ERROR = 0;
export const ERROR_CALL_NOT_IMPLEMENTED = 120;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const ERROR_INVALID_LEVEL = 124;
export const ERROR_SERVICE_ALREADY_RUNNING = 1056;
export const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
export const ERROR_SERVICE_NOT_ACTIVE = 1062;
export const ERROR_SERVICE_MARKED_FOR_DELETE = 1072;
export const SERVICE_ERROR_NORMAL = 0x1;
export const SERVICE_STOPPED = 1;
export const SERVICE_START_PENDING = 2;
export const SERVICE_STOP_PENDING = 3;
export const SERVICE_RUNNING = 4;
export const SERVICE_ACCEPT_STOP = 0x1;
export const SERVICE_ACCEPT_SHUTDOWN = 0x4;
export const SERVICE_ACCEPT_SESSIONCHANGE = 0x80;
export const SERVICE_CONTROL_STOP = 0x1;
export const SERVICE_CONTROL_INTERROGATE = 0x4;
export const SERVICE_CONTROL_SHUTDOWN = 0x5;
export const SERVICE_CONTROL_SESSIONCHANGE = 0xe;
export const ERROR_SERVICE_SPECIFIC_ERROR = 1066;
export const SC_MANAGER_CONNECT = 0x1;
export const SC_MANAGER_CREATE_SERVICE = 0x2;
export const SERVICE_QUERY_STATUS = 0x4;
export const SERVICE_START = 0x10;
export const SERVICE_STOP = 0x20;
export const SERVICE_CHANGE_CONFIG = 0x2;
export const SERVICE_ALL_ACCESS = 0xf01ff;
export const DELETE = 0x10000;
export const SERVICE_CONFIG_DESCRIPTION = 1;
export const SERVICE_CONFIG_FAILURE_ACTIONS = 2;
export const SERVICE_CONFIG_FAILURE_ACTIONS_FLAG = 4;
export const SC_ACTION_RESTART = 1;
/** WTS_SESSION_* event types that arrive with SERVICE_CONTROL_SESSIONCHANGE. */
export const WTS_SESSION_EVENT = {
  1: 'console_connect',
  2: 'console_disconnect',
  3: 'remote_connect',
  4: 'remote_disconnect',
  5: 'logon',
  6: 'logoff',
  7: 'lock',
  8: 'unlock',
  9: 'remote_control',
  10: 'create',
  11: 'terminate',
} as const;

export const advapi32Service = lazyLibrary('advapi32.dll', (lib) => ({
  StartServiceCtrlDispatcherW: lib.func(
    'BOOL __stdcall StartServiceCtrlDispatcherW(const SERVICE_TABLE_ENTRYW *lpServiceStartTable)',
  ),
  RegisterServiceCtrlHandlerExW: lib.func(
    'void * __stdcall RegisterServiceCtrlHandlerExW(LPCWSTR lpServiceName, PortholeHandlerEx *lpHandlerProc, void *lpContext)',
  ),
  SetServiceStatus: lib.func(
    'BOOL __stdcall SetServiceStatus(void *hServiceStatus, SERVICE_STATUS *lpServiceStatus)',
  ),
  OpenSCManagerW: lib.func(
    'void * __stdcall OpenSCManagerW(LPCWSTR lpMachineName, LPCWSTR lpDatabaseName, DWORD dwDesiredAccess)',
  ),
  CreateServiceW: lib.func(
    'void * __stdcall CreateServiceW(void *hSCManager, LPCWSTR lpServiceName, LPCWSTR lpDisplayName, DWORD dwDesiredAccess, DWORD dwServiceType, DWORD dwStartType, DWORD dwErrorControl, LPCWSTR lpBinaryPathName, LPCWSTR lpLoadOrderGroup, void *lpdwTagId, LPCWSTR lpDependencies, LPCWSTR lpServiceStartName, LPCWSTR lpPassword)',
  ),
  OpenServiceW: lib.func(
    'void * __stdcall OpenServiceW(void *hSCManager, LPCWSTR lpServiceName, DWORD dwDesiredAccess)',
  ),
  ChangeServiceConfigW: lib.func(
    'BOOL __stdcall ChangeServiceConfigW(void *hService, DWORD dwServiceType, DWORD dwStartType, DWORD dwErrorControl, LPCWSTR lpBinaryPathName, LPCWSTR lpLoadOrderGroup, void *lpdwTagId, LPCWSTR lpDependencies, LPCWSTR lpServiceStartName, LPCWSTR lpPassword, LPCWSTR lpDisplayName)',
  ),
  ChangeServiceConfig2W: lib.func(
    'BOOL __stdcall ChangeServiceConfig2W(void *hService, DWORD dwInfoLevel, void *lpInfo)',
  ),
  ChangeServiceConfig2W_Description: lib.func(
    'BOOL __stdcall ChangeServiceConfig2W(void *hService, DWORD dwInfoLevel, const SERVICE_DESCRIPTIONW *lpInfo)',
  ),
  ChangeServiceConfig2W_FailureActions: lib.func(
    'BOOL __stdcall ChangeServiceConfig2W(void *hService, DWORD dwInfoLevel, const SERVICE_FAILURE_ACTIONSW *lpInfo)',
  ),
  ChangeServiceConfig2W_FailureActionsFlag: lib.func(
    'BOOL __stdcall ChangeServiceConfig2W(void *hService, DWORD dwInfoLevel, const SERVICE_FAILURE_ACTIONS_FLAG *lpInfo)',
  ),
  QueryServiceStatusEx: lib.func(
    'BOOL __stdcall QueryServiceStatusEx(void *hService, int InfoLevel, _Out_ SERVICE_STATUS_PROCESS *lpBuffer, DWORD cbBufSize, _Out_ DWORD *pcbBytesNeeded)',
  ),
  QueryServiceConfigW: lib.func(
    'BOOL __stdcall QueryServiceConfigW(void *hService, void *lpServiceConfig, DWORD cbBufSize, _Out_ DWORD *pcbBytesNeeded)',
  ),
  QueryServiceConfig2W: lib.func(
    'BOOL __stdcall QueryServiceConfig2W(void *hService, DWORD dwInfoLevel, void *lpBuffer, DWORD cbBufSize, _Out_ DWORD *pcbBytesNeeded)',
  ),
  QueryServiceStatus: lib.func(
    'BOOL __stdcall QueryServiceStatus(void *hService, _Out_ SERVICE_STATUS *lpServiceStatus)',
  ),
  ControlService: lib.func(
    'BOOL __stdcall ControlService(void *hService, DWORD dwControl, _Out_ SERVICE_STATUS *lpServiceStatus)',
  ),
  StartServiceW: lib.func(
    'BOOL __stdcall StartServiceW(void *hService, DWORD dwNumServiceArgs, void *lpServiceArgVectors)',
  ),
  DeleteService: lib.func('BOOL __stdcall DeleteService(void *hService)'),
  CloseServiceHandle: lib.func('BOOL __stdcall CloseServiceHandle(void *hSCObject)'),
}));
