/**
 * Reading an installed service's configuration back from the SCM (for `porthole service status` and
 * the tests): QueryServiceConfigW and QueryServiceConfig2W, with their buffer dances. Needs only
 * SERVICE_QUERY_CONFIG on the handle.
 */
import koffi from 'koffi';
import { readWideString, type Handle } from '../../native/win32/library.js';
import {
  advapi32Service,
  ERROR_INSUFFICIENT_BUFFER,
  ERROR_INVALID_LEVEL,
  QUERY_SERVICE_CONFIGW,
  SC_ACTION,
  SC_ACTION_RESTART,
  SERVICE_CONFIG_FAILURE_ACTIONS,
  SERVICE_CONFIG_FAILURE_ACTIONS_FLAG,
  SERVICE_FAILURE_ACTIONS_FLAG,
  SERVICE_FAILURE_ACTIONSW,
} from '../../native/win32/service-control.js';
import { lastError } from '../../native/win32/last-error.js';
import { Win32Error } from '../../native/win32/win32-error.js';

/** QueryServiceConfigW's two-call buffer dance: once for the size, once for the data. */
export function readConfig(
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
export function readRestartDelays(svc: Handle, name: string): number[] | null {
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

/** QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG), or null where the level is unknown (Wine). */
export function readFailureActionsFlag(svc: Handle, name: string): boolean | null {
  const buf = Buffer.alloc(koffi.sizeof(SERVICE_FAILURE_ACTIONS_FLAG));
  const needed = [0];
  if (
    !advapi32Service().QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, buf, buf.length, needed)
  ) {
    const err = lastError(`QueryServiceConfig2W(${name}, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)`);
    if (err.win32Code === ERROR_INVALID_LEVEL) return null;
    throw err;
  }
  const flag = koffi.decode(buf, SERVICE_FAILURE_ACTIONS_FLAG) as {
    fFailureActionsOnNonCrashFailures: number;
  };
  return flag.fFailureActionsOnNonCrashFailures !== 0;
}
