/**
 * Installing, configuring, starting, stopping and removing the porthole service through the Service
 * Control Manager's API (advapi32), never through `sc.exe`: every failure is a Win32Error naming the
 * call, and the ImagePath is built from quoted arguments. Everything here but `queryService` needs an
 * administrator (SC_MANAGER_CREATE_SERVICE, DELETE, SERVICE_CHANGE_CONFIG).
 */
import koffi from 'koffi';
import { isNullOrInvalid, readWideString, type Handle } from '../../native/win32/library.js';
import {
  advapi32Service,
  DELETE,
  QUERY_SERVICE_CONFIGW,
  SC_ACTION,
  SC_ACTION_RESTART,
  SC_MANAGER_CONNECT,
  SC_MANAGER_CREATE_SERVICE,
  SC_STATUS_PROCESS_INFO,
  SERVICE_ALL_ACCESS,
  SERVICE_AUTO_START,
  SERVICE_CONFIG_DESCRIPTION,
  SERVICE_CONFIG_FAILURE_ACTIONS,
  SERVICE_CONTROL_STOP,
  SERVICE_ERROR_NORMAL,
  SERVICE_FAILURE_ACTIONSW,
  SERVICE_QUERY_CONFIG,
  SERVICE_QUERY_STATUS,
  SERVICE_START,
  SERVICE_STATUS_PROCESS,
  SERVICE_STOP,
  SERVICE_STOPPED,
  SERVICE_WIN32_OWN_PROCESS,
} from '../../native/win32/service-control.js';
import { lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import { windowsCommandLine } from './command-line.js';

const ERROR_INSUFFICIENT_BUFFER = 122;
const ERROR_INVALID_LEVEL = 124;
const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
const ERROR_SERVICE_NOT_ACTIVE = 1062;
const ERROR_SERVICE_MARKED_FOR_DELETE = 1072;
const ERROR_SERVICE_ALREADY_RUNNING = 1056;

export const SERVICE_STATE_NAMES: Record<number, string> = {
  1: 'stopped',
  2: 'start_pending',
  3: 'stop_pending',
  4: 'running',
  5: 'continue_pending',
  6: 'pause_pending',
  7: 'paused',
};
export const START_TYPE_NAMES: Record<number, string> = {
  0: 'boot',
  1: 'system',
  2: 'auto',
  3: 'demand',
  4: 'disabled',
};

export interface ServiceDefinition {
  name: string;
  displayName: string;
  description: string;
  /** The service's argv (node.exe, porthole.js, `service --scm`, …): quoted into the ImagePath. */
  command: string[];
  /** Restart delay after a crash (failure actions); default 5000 ms. */
  restartDelayMs?: number;
}

export interface ServiceState {
  installed: true;
  state: string;
  /** dwCurrentState as the SCM reports it. */
  stateCode: number;
  pid: number;
  startType: string;
  binaryPath: string;
  account: string;
  displayName: string;
  win32ExitCode: number;
  serviceExitCode: number;
  /**
   * The failure actions' delays, one per restart action (QueryServiceConfig2W); null where that level
   * cannot be read back (Wine 8: ERROR_INVALID_LEVEL).
   */
  restartDelaysMs: number[] | null;
}

/** Runs `fn` with a handle from `open`, closed on every path. */
function withScHandle<T>(h: Handle, fn: (h: Handle) => T): T {
  try {
    return fn(h);
  } finally {
    advapi32Service().CloseServiceHandle(h);
  }
}

function openManager(access: number): Handle {
  const h: Handle = advapi32Service().OpenSCManagerW(null, null, access);
  if (isNullOrInvalid(h)) throw lastError('OpenSCManagerW');
  return h;
}

/** The service's handle, or null when it is not installed (1060). */
function openService(scm: Handle, name: string, access: number): Handle | null {
  const h: Handle = advapi32Service().OpenServiceW(scm, name, access);
  if (!isNullOrInvalid(h)) return h;
  const err = lastError(`OpenServiceW(${name})`);
  if (err.win32Code === ERROR_SERVICE_DOES_NOT_EXIST) return null;
  throw err;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates the service, or updates it when it exists (install twice = one service with the newer
 * settings): LocalSystem, auto-start, own process, description and restart-on-failure. A service
 * still marked for delete (1072: a handle to it is open somewhere, e.g. services.msc) cannot be
 * created or changed; that is retried for `markedForDeleteWaitMs`, then reported.
 */
export async function installService(
  def: ServiceDefinition,
  opts: { markedForDeleteWaitMs?: number } = {},
): Promise<'created' | 'updated'> {
  const deadline = Date.now() + (opts.markedForDeleteWaitMs ?? 15_000);
  for (;;) {
    try {
      return installOnce(def);
    } catch (err) {
      if (!(err instanceof Win32Error && err.win32Code === ERROR_SERVICE_MARKED_FOR_DELETE)) throw err;
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

function installOnce(def: ServiceDefinition): 'created' | 'updated' {
  const api = advapi32Service();
  const imagePath = windowsCommandLine(def.command);
  return withScHandle(openManager(SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE), (scm) => {
    let outcome: 'created' | 'updated' = 'updated';
    let svc = openService(scm, def.name, SERVICE_ALL_ACCESS);
    if (svc) {
      // lpServiceStartName "LocalSystem" with no password: back to LocalSystem if someone changed it.
      const ok = api.ChangeServiceConfigW(
        svc,
        SERVICE_WIN32_OWN_PROCESS,
        SERVICE_AUTO_START,
        SERVICE_ERROR_NORMAL,
        imagePath,
        null,
        null,
        null,
        'LocalSystem',
        null,
        def.displayName,
      );
      if (!ok) {
        const err = lastError(`ChangeServiceConfigW(${def.name})`);
        api.CloseServiceHandle(svc);
        throw err;
      }
    } else {
      // A NULL account is LocalSystem.
      svc = api.CreateServiceW(
        scm,
        def.name,
        def.displayName,
        SERVICE_ALL_ACCESS,
        SERVICE_WIN32_OWN_PROCESS,
        SERVICE_AUTO_START,
        SERVICE_ERROR_NORMAL,
        imagePath,
        null,
        null,
        null,
        null,
        null,
      ) as Handle;
      if (isNullOrInvalid(svc)) throw lastError(`CreateServiceW(${def.name})`);
      outcome = 'created';
    }
    withScHandle(svc, (h) => configure(h, def));
    return outcome;
  });
}

function configure(svc: Handle, def: ServiceDefinition): void {
  const api = advapi32Service();
  if (
    !api.ChangeServiceConfig2W_Description(svc, SERVICE_CONFIG_DESCRIPTION, {
      lpDescription: def.description,
    })
  )
    throw lastError('ChangeServiceConfig2W(SERVICE_CONFIG_DESCRIPTION)');
  // Restart after each of the first three failures; the count resets after a day without one.
  const delay = def.restartDelayMs ?? 5000;
  const actions = Array.from({ length: 3 }, () => ({ Type: SC_ACTION_RESTART, Delay: delay }));
  const arrayType = koffi.array(SC_ACTION, actions.length);
  const mem: unknown = koffi.alloc(SC_ACTION, actions.length);
  try {
    koffi.encode(mem, arrayType, actions);
    const info = {
      dwResetPeriod: 86_400,
      lpRebootMsg: null,
      lpCommand: null,
      cActions: actions.length,
      lpsaActions: mem,
    };
    if (!api.ChangeServiceConfig2W_FailureActions(svc, SERVICE_CONFIG_FAILURE_ACTIONS, info))
      throw lastError('ChangeServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS)');
  } finally {
    koffi.free(mem);
  }
}

/**
 * Stops the service when it runs (waiting up to `stopTimeoutMs` for Stopped) and deletes it.
 * Returns 'not_installed' when there was nothing to remove; a service already marked for delete counts
 * as removed (the SCM drops it when the last handle closes).
 */
export async function uninstallService(
  name: string,
  opts: { stopTimeoutMs?: number } = {},
): Promise<'removed' | 'not_installed'> {
  const api = advapi32Service();
  const scm = openManager(SC_MANAGER_CONNECT);
  try {
    const svc = openService(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    if (!svc) return 'not_installed';
    try {
      if (statusOf(svc).dwCurrentState !== SERVICE_STOPPED) {
        control(svc, SERVICE_CONTROL_STOP, name);
        await waitForState(svc, SERVICE_STOPPED, opts.stopTimeoutMs ?? 30_000, name);
      }
      if (!api.DeleteService(svc)) {
        const err = lastError(`DeleteService(${name})`);
        if (err.win32Code !== ERROR_SERVICE_MARKED_FOR_DELETE) throw err;
      }
      return 'removed';
    } finally {
      api.CloseServiceHandle(svc);
    }
  } finally {
    api.CloseServiceHandle(scm);
  }
}

/** StartServiceW, then waits for Running. Already running is not an error. */
export async function startService(name: string, timeoutMs = 30_000): Promise<void> {
  const api = advapi32Service();
  await withScHandleAsync(openManager(SC_MANAGER_CONNECT), async (scm) => {
    const svc = openService(scm, name, SERVICE_START | SERVICE_QUERY_STATUS);
    if (!svc) throw new Win32Error(`OpenServiceW(${name})`, ERROR_SERVICE_DOES_NOT_EXIST);
    await withScHandleAsync(svc, async (h) => {
      if (!api.StartServiceW(h, 0, null)) {
        const err = lastError(`StartServiceW(${name})`);
        if (err.win32Code !== ERROR_SERVICE_ALREADY_RUNNING) throw err;
      }
      await waitForState(h, 4, timeoutMs, name);
    });
  });
}

/** Sends SERVICE_CONTROL_STOP and waits for Stopped. Not running is not an error. */
export async function stopService(name: string, timeoutMs = 30_000): Promise<void> {
  await withScHandleAsync(openManager(SC_MANAGER_CONNECT), async (scm) => {
    const svc = openService(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS);
    if (!svc) throw new Win32Error(`OpenServiceW(${name})`, ERROR_SERVICE_DOES_NOT_EXIST);
    await withScHandleAsync(svc, async (h) => {
      if (statusOf(h).dwCurrentState === SERVICE_STOPPED) return;
      control(h, SERVICE_CONTROL_STOP, name);
      await waitForState(h, SERVICE_STOPPED, timeoutMs, name);
    });
  });
}

/** The service's state, process id and configuration, or `{ installed: false }`. */
export function queryService(name: string): ServiceState | { installed: false } {
  return withScHandle(openManager(SC_MANAGER_CONNECT), (scm) => {
    const svc = openService(scm, name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
    if (!svc) return { installed: false as const };
    return withScHandle(svc, (h) => {
      const st = statusOf(h);
      const cfg = readConfig(h, name);
      return {
        installed: true as const,
        state: SERVICE_STATE_NAMES[st.dwCurrentState] ?? `unknown(${st.dwCurrentState})`,
        stateCode: st.dwCurrentState,
        pid: st.dwProcessId,
        startType: START_TYPE_NAMES[cfg.startType] ?? `unknown(${cfg.startType})`,
        binaryPath: cfg.binaryPath,
        account: cfg.account,
        displayName: cfg.displayName,
        win32ExitCode: st.dwWin32ExitCode,
        serviceExitCode: st.dwServiceSpecificExitCode,
        restartDelaysMs: readRestartDelays(h, name),
      };
    });
  });
}

interface StatusProcess {
  dwCurrentState: number;
  dwProcessId: number;
  dwWin32ExitCode: number;
  dwServiceSpecificExitCode: number;
}

function statusOf(svc: Handle): StatusProcess {
  const out = {} as StatusProcess;
  const needed = [0];
  if (
    !advapi32Service().QueryServiceStatusEx(
      svc,
      SC_STATUS_PROCESS_INFO,
      out,
      koffi.sizeof(SERVICE_STATUS_PROCESS),
      needed,
    )
  )
    throw lastError('QueryServiceStatusEx');
  return out;
}

/** QueryServiceConfigW's two-call buffer dance: once for the size, once for the data. */
function readConfig(
  svc: Handle,
  name: string,
): { startType: number; binaryPath: string; account: string; displayName: string } {
  const api = advapi32Service();
  const needed = [0];
  if (api.QueryServiceConfigW(svc, null, 0, needed) || needed[0] === 0) {
    throw new Win32Error(`QueryServiceConfigW(${name})`, ERROR_INSUFFICIENT_BUFFER, {
      detail: 'no size reported',
    });
  }
  const err = lastError(`QueryServiceConfigW(${name})`);
  if (err.win32Code !== ERROR_INSUFFICIENT_BUFFER) throw err;
  const buf = Buffer.alloc(needed[0]!);
  if (!api.QueryServiceConfigW(svc, buf, buf.length, needed)) throw lastError(`QueryServiceConfigW(${name})`);
  const cfg = koffi.decode(buf, QUERY_SERVICE_CONFIGW) as {
    dwStartType: number;
    lpBinaryPathName: unknown;
    lpServiceStartName: unknown;
    lpDisplayName: unknown;
  };
  return {
    startType: cfg.dwStartType,
    binaryPath: readWideString(cfg.lpBinaryPathName),
    account: readWideString(cfg.lpServiceStartName),
    displayName: readWideString(cfg.lpDisplayName),
  };
}

/** QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS): the delays of the restart actions. */
function readRestartDelays(svc: Handle, name: string): number[] | null {
  const api = advapi32Service();
  const call = `QueryServiceConfig2W(${name}, SERVICE_CONFIG_FAILURE_ACTIONS)`;
  const needed = [0];
  if (!api.QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, null, 0, needed)) {
    const err = lastError(call);
    if (err.win32Code === ERROR_INVALID_LEVEL) return null;
    if (err.win32Code !== ERROR_INSUFFICIENT_BUFFER) throw err;
  }
  const buf = Buffer.alloc(Math.max(needed[0]!, koffi.sizeof(SERVICE_FAILURE_ACTIONSW)));
  if (!api.QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, buf, buf.length, needed))
    throw lastError(call);
  const fa = koffi.decode(buf, SERVICE_FAILURE_ACTIONSW) as { cActions: number; lpsaActions: unknown };
  if (fa.cActions === 0 || !fa.lpsaActions || koffi.address(fa.lpsaActions) === 0n) return [];
  const actions = koffi.decode(fa.lpsaActions, koffi.array(SC_ACTION, fa.cActions)) as {
    Type: number;
    Delay: number;
  }[];
  return actions.filter((a) => a.Type === SC_ACTION_RESTART).map((a) => a.Delay);
}

function control(svc: Handle, code: number, name: string): void {
  const st = {};
  if (!advapi32Service().ControlService(svc, code, st)) {
    const err = lastError(`ControlService(${name}, ${code})`);
    if (err.win32Code !== ERROR_SERVICE_NOT_ACTIVE) throw err;
  }
}

async function waitForState(svc: Handle, state: number, timeoutMs: number, name: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = statusOf(svc);
    if (st.dwCurrentState === state) return;
    // A service that stopped while we wait for Running failed to start.
    if (st.dwCurrentState === SERVICE_STOPPED && state !== SERVICE_STOPPED) {
      throw new Error(
        `service ${name} stopped while starting (win32 exit ${st.dwWin32ExitCode}, service exit ${st.dwServiceSpecificExitCode})`,
      );
    }
    if (Date.now() > end) {
      throw new Error(
        `service ${name}: still ${SERVICE_STATE_NAMES[st.dwCurrentState] ?? st.dwCurrentState} after ${timeoutMs} ms, expected ${SERVICE_STATE_NAMES[state]}`,
      );
    }
    await sleep(200);
  }
}

async function withScHandleAsync<T>(h: Handle, fn: (h: Handle) => Promise<T>): Promise<T> {
  try {
    return await fn(h);
  } finally {
    advapi32Service().CloseServiceHandle(h);
  }
}
