/**
 * Win32 failures as errors that name the call and carry its code, so a log line says what failed
 * (`CreateProcessAsUserW failed: 1314 ERROR_PRIVILEGE_NOT_HELD`) without a debugger.
 */
import { PortholeError } from '../../errors/porthole-error.js';

/** Win32 error codes by their SDK names, for messages (each checked against the headers, test/win32). */
export const WIN32_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: 'ERROR_SUCCESS',
  2: 'ERROR_FILE_NOT_FOUND',
  5: 'ERROR_ACCESS_DENIED',
  6: 'ERROR_INVALID_HANDLE',
  87: 'ERROR_INVALID_PARAMETER',
  109: 'ERROR_BROKEN_PIPE',
  122: 'ERROR_INSUFFICIENT_BUFFER',
  124: 'ERROR_INVALID_LEVEL',
  183: 'ERROR_ALREADY_EXISTS',
  231: 'ERROR_PIPE_BUSY',
  232: 'ERROR_NO_DATA',
  233: 'ERROR_PIPE_NOT_CONNECTED',
  258: 'WAIT_TIMEOUT',
  535: 'ERROR_PIPE_CONNECTED',
  995: 'ERROR_OPERATION_ABORTED',
  997: 'ERROR_IO_PENDING',
  1008: 'ERROR_NO_TOKEN',
  1060: 'ERROR_SERVICE_DOES_NOT_EXIST',
  1061: 'ERROR_SERVICE_CANNOT_ACCEPT_CTRL',
  1062: 'ERROR_SERVICE_NOT_ACTIVE',
  1063: 'ERROR_FAILED_SERVICE_CONTROLLER_CONNECT',
  1072: 'ERROR_SERVICE_MARKED_FOR_DELETE',
  1073: 'ERROR_SERVICE_EXISTS',
  1314: 'ERROR_PRIVILEGE_NOT_HELD',
  1722: 'RPC_S_SERVER_UNAVAILABLE',
  7022: 'ERROR_CTX_WINSTATION_NOT_FOUND',
};

/**
 * A Win32 call failed (code `win32_call_failed`): `call` names it, `win32Code` is its error (from
 * GetLastError or returned) or, when `hresult`, its HRESULT as an unsigned number.
 */
export class Win32Error extends PortholeError<'win32_call_failed'> {
  override name = 'Win32Error';
  readonly win32Code: number;
  readonly call: string;
  readonly hresult: boolean;

  constructor(call: string, code: number, opts: { hresult?: boolean; detail?: string } = {}) {
    const hex = `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
    const what = opts.hresult
      ? `HRESULT ${hex}`
      : `${code}${WIN32_ERROR_NAMES[code] ? ` ${WIN32_ERROR_NAMES[code]}` : ''}`;
    super('win32_call_failed', `${call} failed: ${what}${opts.detail ? ` (${opts.detail})` : ''}`);
    this.call = call;
    this.win32Code = opts.hresult ? code >>> 0 : code;
    this.hresult = opts.hresult ?? false;
  }
}

/** Throws when an HRESULT is a failure (negative). */
export function checkHResult(call: string, hr: number): void {
  if (hr < 0) throw new Win32Error(call, hr, { hresult: true });
}

/** Throws when a function that returns its error code (WTS, registry, SCM status) did not return 0. */
export function checkCode(call: string, code: number): void {
  if (code !== 0) throw new Win32Error(call, code);
}
