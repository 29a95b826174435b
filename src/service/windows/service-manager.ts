/**
 * Installing, configuring, starting, stopping and removing the porthole service through the Service
 * Control Manager's API (advapi32), never through `sc.exe`: every failure is a Win32Error naming the
 * call, and the ImagePath is built from quoted arguments. Everything here but `queryService` needs an
 * administrator (SC_MANAGER_CREATE_SERVICE, DELETE, SERVICE_CHANGE_CONFIG).
 */
import koffi from 'koffi';
import { isNullOrInvalid, type Handle } from '../../native/win32/library.js';
import {
  advapi32Service,
  DELETE,
  ERROR_INVALID_LEVEL,
  ERROR_SERVICE_ALREADY_RUNNING,
  ERROR_SERVICE_DOES_NOT_EXIST,
  ERROR_SERVICE_MARKED_FOR_DELETE,
  ERROR_SERVICE_NOT_ACTIVE,
  SC_ACTION,
  SC_ACTION_RESTART,
  SC_MANAGER_CONNECT,
  SC_MANAGER_CREATE_SERVICE,
  SC_STATUS_PROCESS_INFO,
  SERVICE_ALL_ACCESS,
  SERVICE_AUTO_START,
  SERVICE_BOOT_START,
  SERVICE_CONFIG_DESCRIPTION,
  SERVICE_CONFIG_FAILURE_ACTIONS,
  SERVICE_CONFIG_FAILURE_ACTIONS_FLAG,
  SERVICE_CONTINUE_PENDING,
  SERVICE_CONTROL_STOP,
  SERVICE_DEMAND_START,
  SERVICE_DISABLED,
  SERVICE_ERROR_NORMAL,
  SERVICE_PAUSE_PENDING,
  SERVICE_PAUSED,
  SERVICE_QUERY_CONFIG,
  SERVICE_QUERY_STATUS,
  SERVICE_RUNNING,
  SERVICE_START,
  SERVICE_START_PENDING,
  SERVICE_STATUS_PROCESS,
  SERVICE_STOP,
  SERVICE_STOP_PENDING,
  SERVICE_STOPPED,
  SERVICE_SYSTEM_START,
  SERVICE_WIN32_OWN_PROCESS,
} from '../../native/win32/service-control.js';
import { lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';
import { windowsCommandLine } from './command-line.js';
import { readConfig, readFailureActionsFlag, readRestartDelays } from './service-config-readback.js';

export const SERVICE_STATE_NAMES: Record<number, string> = {
  [SERVICE_STOPPED]: 'stopped',
  [SERVICE_START_PENDING]: 'start_pending',
  [SERVICE_STOP_PENDING]: 'stop_pending',
  [SERVICE_RUNNING]: 'running',
  [SERVICE_CONTINUE_PENDING]: 'continue_pending',
  [SERVICE_PAUSE_PENDING]: 'pause_pending',
  [SERVICE_PAUSED]: 'paused',
};
export const START_TYPE_NAMES: Record<number, string> = {
  [SERVICE_BOOT_START]: 'boot',
  [SERVICE_SYSTEM_START]: 'system',
  [SERVICE_AUTO_START]: 'auto',
  [SERVICE_DEMAND_START]: 'demand',
  [SERVICE_DISABLED]: 'disabled',
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
  /**
   * Whether the failure actions also run when the service stops with an error it reported
   * (SERVICE_FAILURE_ACTIONS_FLAG); null where that level cannot be read back (Wine 8).
   */
  failureActionsOnNonCrashFailures: boolean | null;
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
  opts: {
    markedForDeleteWaitMs?: number;
    /** Told of a setting this service manager cannot store (Wine: the failure-actions flag). */
    warn?: (message: string) => void;
  } = {},
): Promise<'created' | 'updated'> {
  const deadline = Date.now() + (opts.markedForDeleteWaitMs ?? 15_000);
  for (;;) {
    try {
      return installOnce(def, opts.warn ?? (() => undefined));
    } catch (err) {
      if (!(err instanceof Win32Error && err.win32Code === ERROR_SERVICE_MARKED_FOR_DELETE)) throw err;
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

function installOnce(def: ServiceDefinition, warn: (message: string) => void): 'created' | 'updated' {
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
    withScHandle(svc, (h) => configure(h, def, warn));
    return outcome;
  });
}

function configure(svc: Handle, def: ServiceDefinition, warn: (message: string) => void): void {
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
  // Without this flag the SCM runs the failure actions only when the process dies without reporting
  // SERVICE_STOPPED; the host reports Stopped with ERROR_SERVICE_SPECIFIC_ERROR on a crash or a failed
  // start, which is then a "non-crash failure" (SERVICE_FAILURE_ACTIONS_FLAG docs). The docs add that
  // the change takes effect the next time the system is started.
  const flag = { fFailureActionsOnNonCrashFailures: 1 };
  if (!api.ChangeServiceConfig2W_FailureActionsFlag(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, flag)) {
    const err = lastError('ChangeServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)');
    // Every Windows since Vista stores it; Wine 8's service manager answers ERROR_INVALID_LEVEL.
    if (err.win32Code !== ERROR_INVALID_LEVEL) throw err;
    warn(`${err.message}: this service manager cannot restart the service after a reported failure`);
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
      await waitForState(h, SERVICE_RUNNING, timeoutMs, name);
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
        failureActionsOnNonCrashFailures: readFailureActionsFlag(h, name),
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
